// Training progress for `recur train`: on a terminal a cli-progress bar (step, loss, validation BPC, tokens/s,
// ETA); otherwise (a pipe, a CI log) a plain line every `logEvery` steps. Tokens/s counts training time only.
import cliProgress from 'cli-progress';

const fmtTime = (s: number): string => {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  return t >= 3600 ? `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m` : t >= 60 ? `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s` : `${t}s`;
};

export class TrainProgress {
  private readonly bar: cliProgress.SingleBar | null;
  private tokens = 0;
  private busyMs = 0;
  private bpc = NaN;
  private loss = NaN;

  constructor(private readonly total: number, private readonly logEvery: number, private readonly out: (line: string) => void) {
    this.bar = process.stdout.isTTY
      ? new cliProgress.SingleBar(
          {
            format: 'step {value}/{total} {bar} loss {loss} | val bpc {bpc} | {tps} tok/s | ETA {eta_formatted}',
            stream: process.stdout,
            barsize: 24,
            hideCursor: true,
            etaBuffer: 50,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  }

  /** Training tokens per second so far (evaluation time excluded). */
  tokensPerSec(): number {
    return this.busyMs > 0 ? Math.round((this.tokens * 1000) / this.busyMs) : 0;
  }

  /** A finished step; `ms` is its own duration (evaluations and saves between steps never count). */
  step(step: number, loss: number, tokens: number, ms: number): void {
    this.busyMs += ms;
    this.tokens += tokens;
    this.loss = loss;
    const payload = { loss: loss.toFixed(4), bpc: Number.isFinite(this.bpc) ? this.bpc.toFixed(3) : '-', tps: this.tokensPerSec().toLocaleString('en-US') };
    if (this.bar) {
      if (!this.bar.isActive) this.bar.start(this.total, step, payload);
      else this.bar.update(step, payload);
      return;
    }
    if (step % this.logEvery === 0 || step === this.total) {
      const eta = this.tokensPerSec() > 0 ? ((this.total - step) * tokens) / this.tokensPerSec() : NaN;
      this.out(`step ${step}/${this.total}  loss ${payload.loss}  ${payload.tps} tok/s  ETA ${fmtTime(eta)}`);
    }
  }

  validation(step: number, loss: number, bpc: number): void {
    this.bpc = bpc;
    if (this.bar?.isActive) this.bar.update(step, { loss: this.loss.toFixed(4), bpc: bpc.toFixed(3), tps: this.tokensPerSec().toLocaleString('en-US') });
    else if (!this.bar) this.out(`step ${step}  validation loss ${loss.toFixed(4)}  bpc ${bpc.toFixed(4)}`);
  }

  stop(): void {
    if (this.bar?.isActive) this.bar.stop();
  }
}
