// The benchmark tab's table: the CLI's side-by-side layout (bench/runner.ts formatTable) as HTML, one block per
// suite, one column per implementation.
import type { BenchRow } from '../bench/runner.js';

function fmt(v: number | undefined): string {
  if (v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

export function benchTable(rows: readonly BenchRow[]): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'bench';
  const tr = (cells: string[], tag: 'td' | 'th', cls?: string) => {
    const r = table.insertRow();
    if (cls) r.className = cls;
    for (const c of cells) {
      const cell = document.createElement(tag);
      cell.textContent = c;
      r.appendChild(cell);
    }
    return r;
  };
  for (const suite of unique(rows.map((r) => r.suite))) {
    const mine = rows.filter((r) => r.suite === suite);
    const impls = unique(mine.map((r) => r.impl));
    tr([suite, 'unit', ...impls], 'th', 'suite');
    for (const key of unique(mine.map((r) => `${r.case}\u0000${r.unit}`))) {
      const [name, unit] = key.split('\u0000') as [string, string];
      tr([name, unit, ...impls.map((i) => fmt(mine.find((r) => r.case === name && r.unit === unit && r.impl === i)?.value))], 'td');
    }
  }
  return table;
}
