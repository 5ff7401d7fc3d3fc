// The bench suites log with process.stderr.write (they were written for the CLI): in the worker that becomes a
// message to the page. Only `stderr` and an empty `env` are provided, so runtime checks still see "not Node".
type Sink = (line: string) => void;
let sink: Sink = (line) => console.log(line);

export function setStderrSink(s: Sink): void {
  sink = s;
}

const g = globalThis as { process?: unknown };
if (g.process === undefined) {
  g.process = { env: {}, stderr: { write: (s: string) => (sink(String(s).replace(/\n$/, '')), true) } };
}
