// Errors that name what went wrong: the op, the shapes, and what was expected.
export class RecurError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** A shape or rank does not fit what the op expects. */
export class ShapeError extends RecurError {}
/** An input has the wrong element type. */
export class DTypeError extends RecurError {}
/** A tensor was used after dispose(). */
export class DisposedError extends RecurError {}
/** A backend was asked for that is not available here. */
export class BackendUnavailableError extends RecurError {}
/** A bad option value or argument. */
export class OptionError extends RecurError {}
/** A GPU device was lost mid-run; the scheduler may fall back. */
export class DeviceLostError extends RecurError {}
/** A checkpoint or safetensors file is truncated, oversized or malformed; names the file and the problem. */
export class CheckpointError extends RecurError {}
/** Training text or token data cannot be used as given: names the file, position or character. */
export class DataError extends RecurError {}
/** Autograd misuse: a tape used twice, an input disposed before backward, an op without a gradient on the path. */
export class AutogradError extends RecurError {}
