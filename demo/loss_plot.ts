// The live loss plot on a canvas: raw per-step losses (light) and a centred moving average (bold), with a
// y axis in nats per token and the step count along x. Redrawn at most once per animation frame.

export class LossPlot {
  private losses: number[] = [];
  private total = 1;
  private pending = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.draw();
  }

  reset(totalSteps: number): void {
    this.losses = [];
    this.total = Math.max(1, totalSteps);
    this.schedule();
  }

  push(loss: number): void {
    this.losses.push(loss);
    this.schedule();
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    const c = this.canvas;
    const g = c.getContext('2d');
    if (!g) return;
    const W = c.width;
    const H = c.height;
    const L = { left: 44, right: 10, top: 10, bottom: 24 };
    g.clearRect(0, 0, W, H);
    g.font = '11px system-ui, sans-serif';
    g.fillStyle = '#6b7280';
    const xs = this.losses;
    if (xs.length === 0) {
      g.fillText('the loss appears here while training', L.left + 10, H / 2);
      return;
    }
    const hi = Math.max(...xs);
    const lo = Math.min(...xs);
    const pad = (hi - lo) * 0.05 || 0.5;
    const y0 = Math.max(0, lo - pad);
    const y1 = hi + pad;
    const n = Math.max(this.total, xs.length);
    const px = (i: number) => L.left + ((W - L.left - L.right) * i) / Math.max(1, n - 1);
    const py = (v: number) => L.top + ((H - L.top - L.bottom) * (y1 - v)) / (y1 - y0);
    g.strokeStyle = '#e5e7eb';
    g.lineWidth = 1;
    for (let k = 0; k <= 4; k++) {
      const v = y0 + ((y1 - y0) * k) / 4;
      g.beginPath();
      g.moveTo(L.left, py(v));
      g.lineTo(W - L.right, py(v));
      g.stroke();
      g.fillText(v.toFixed(2), 4, py(v) + 4);
    }
    g.fillText('0', L.left, H - 6);
    g.fillText(`step ${n}`, W - L.right - 50, H - 6);
    const line = (vals: number[], color: string, width: number) => {
      g.strokeStyle = color;
      g.lineWidth = width;
      g.beginPath();
      vals.forEach((v, i) => (i === 0 ? g.moveTo(px(i), py(v)) : g.lineTo(px(i), py(v))));
      g.stroke();
    };
    line(xs, '#b9c8ee', 1);
    const w = Math.max(1, Math.round(xs.length / 30));
    const smooth = xs.map((_, i) => {
      const k = Math.min(w, i, xs.length - 1 - i); // symmetric near the ends, so the steep start is not smeared
      const part = xs.slice(i - k, i + k + 1);
      return part.reduce((a, v) => a + v, 0) / part.length;
    });
    line(smooth, '#2f6fdf', 2.2);
  }
}
