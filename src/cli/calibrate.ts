// `recur calibrate [--json] [--force]`: measures (or loads from the cache) each backend's throughput per op class
// and the wasm <-> WebGPU transfer costs the scheduler decides with, and prints them.
import { availableBackends } from '../engine.js';
import { calibrate, init } from '../index.js';
import { lastCalibrationMeasured } from '../scheduler/calibrate.js';
import { fileCalibrationStore } from '../node/calibration_cache.js';
import { OP_CLASSES, type Calibration } from '../scheduler/cost_model.js';
import { fmtSeconds } from '../scheduler/explain.js';

export interface CalibrateFlags {
  json?: boolean;
  force?: boolean;
}

export async function calibrateCommand(o: CalibrateFlags): Promise<number> {
  const report = await init({ webgpu: true, calibrate: false });
  const store = fileCalibrationStore();
  const c = await calibrate({ force: !!o.force, store });
  const measured = lastCalibrationMeasured();
  if (o.json) process.stdout.write(`${JSON.stringify({ cacheFile: store.path, measured, ...c }, null, 2)}\n`);
  else process.stdout.write(formatCalibration(c, { measured, cacheFile: store.path, webgpuUnavailable: report.webgpuUnavailable }));
  return 0;
}

export function formatCalibration(c: Calibration, o: { measured: boolean; cacheFile: string; webgpuUnavailable?: string }): string {
  const lines = [`calibration ${o.measured ? `measured in ${c.tookMs} ms` : `from the cache (measured ${c.measuredAt} in ${c.tookMs} ms)`}; cache: ${o.cacheFile}`];
  if (o.webgpuUnavailable) lines.push(`webgpu: not available (${o.webgpuUnavailable})`);
  const head = ['backend', 'class', 'latency', 'GFLOP/s', 'GB/s', ''];
  const rows: string[][] = [];
  for (const b of availableBackends()) {
    const rates = c.backends[b];
    if (!rates) continue;
    for (const cls of OP_CLASSES) {
      const r = rates[cls];
      if (!r) continue;
      const est = c.estimated?.[b]?.includes(cls) ? '(estimated: over the time budget)' : '';
      rows.push([b, cls, fmtSeconds(r.latency), (r.flops / 1e9).toFixed(2), (r.bytes / 1e9).toFixed(2), est]);
    }
  }
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((x, i) => (i >= 2 && i <= 4 ? x.padStart(w[i]!) : x.padEnd(w[i]!))).join('  ').trimEnd();
  lines.push('', line(head), ...rows.map(line));
  const links = Object.entries(c.links);
  if (links.length) {
    lines.push('', 'transfers');
    for (const [k, l] of links) lines.push(`  ${k.padEnd(14)} latency ${fmtSeconds(l!.latency)}, ${(l!.bytesPerSecond / 1e9).toFixed(2)} GB/s`);
  }
  return `${lines.join('\n')}\n`;
}
