// The loss curve of a training run as a small standalone SVG: training loss (nats/token) and validation loss
// against the step, with axes, ticks and labels. Written beside the checkpoint by `recur train`.

export interface CurvePoint {
  step: number;
  value: number;
}

export interface LossPlotData {
  title: string;
  train: readonly CurvePoint[];
  validation: readonly CurvePoint[];
}

const W = 640;
const H = 400;
const M = { left: 64, right: 20, top: 36, bottom: 48 };

/** "Nice" tick values (1, 2, 5 × 10^k) covering [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The SVG document text. */
export function lossPlotSvg(d: LossPlotData): string {
  const all = [...d.train, ...d.validation].filter((p) => Number.isFinite(p.value));
  const x1 = Math.max(1, ...all.map((p) => p.step));
  const y0 = Math.min(...all.map((p) => p.value), Infinity);
  const y1 = Math.max(...all.map((p) => p.value), -Infinity);
  const [lo, hi] = all.length ? [Math.max(0, y0 - 0.05 * (y1 - y0 || 1)), y1 + 0.05 * (y1 - y0 || 1)] : [0, 1];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (s: number) => M.left + (s / x1) * pw;
  const sy = (v: number) => M.top + ph - ((v - lo) / (hi - lo)) * ph;
  const line = (pts: readonly CurvePoint[], color: string, width: number) =>
    pts.length ? `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${pts.filter((p) => Number.isFinite(p.value)).map((p) => `${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`).join(' ')}"/>` : '';
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(d.title)}</text>`,
  ];
  for (const v of ticks(lo, hi, 6)) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  for (const s of ticks(0, x1, 6)) {
    out.push(`<line x1="${sx(s).toFixed(1)}" x2="${sx(s).toFixed(1)}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="black"/>`);
    out.push(`<text x="${sx(s).toFixed(1)}" y="${M.top + ph + 18}" text-anchor="middle">${s}</text>`);
  }
  out.push(
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top + ph}" x2="${W - M.right}" y2="${M.top + ph}" stroke="black"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">step</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">loss (nats/token)</text>`,
    line(d.train, '#1f77b4', 1.5),
    line(d.validation, '#d62728', 2),
    ...d.validation.map((p) => `<circle cx="${sx(p.step).toFixed(1)}" cy="${sy(p.value).toFixed(1)}" r="3" fill="#d62728"/>`),
    `<g transform="translate(${W - M.right - 150} ${M.top + 10})"><line x1="0" x2="20" y1="0" y2="0" stroke="#1f77b4" stroke-width="2"/><text x="26" y="4">train</text>`,
    `<line x1="0" x2="20" y1="18" y2="18" stroke="#d62728" stroke-width="2"/><text x="26" y="22">validation</text></g>`,
    '</svg>',
    '',
  );
  return out.filter(Boolean).join('\n');
}
