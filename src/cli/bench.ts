// `recur bench <suite|all> [--quick] [--smoke] [--engine E] [--json FILE]`: runs bench suites, prints a side-by-side
// table (one column per implementation, ratios against tfjs-wasm) and optionally writes the rows as JSON, atomically.
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ENGINES, formatTable, runSuites, type BenchEngine, type BenchSuite } from '../../bench/runner.js';
import { SUITES } from '../../bench/suites.js';
import { OptionError } from '../errors.js';

export interface BenchFlags {
  quick?: boolean;
  smoke?: boolean;
  json?: string;
  engine?: string;
}

/** The timing engine an `--engine` value names (default round-robin). */
export function parseEngine(value: string | undefined): BenchEngine {
  if (value === undefined) return 'round-robin';
  if ((ENGINES as readonly string[]).includes(value)) return value as BenchEngine;
  throw new OptionError(`--engine ${value}: unknown timing engine (known: ${ENGINES.join(', ')})`);
}

/** Writes FILE.tmp-<pid> and renames it over FILE, so an interrupted run never leaves a half-written FILE. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The suites a `<suite>` argument names: 'all', one name, or names joined with ','. */
export function selectSuites(arg: string, suites: readonly BenchSuite[] = SUITES): BenchSuite[] {
  if (arg === 'all') return [...suites];
  return arg.split(',').map((name) => {
    const s = suites.find((x) => x.name === name.trim());
    if (!s) throw new OptionError(`unknown bench suite '${name}' (known: ${suites.map((x) => x.name).join(', ')}, all)`);
    return s;
  });
}

export async function benchCommand(arg: string, flags: BenchFlags): Promise<number> {
  const suites = selectSuites(arg);
  const engine = parseEngine(flags.engine);
  const json = flags.json === undefined ? null : resolve(flags.json);
  if (json !== null) {
    const dir = dirname(json);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new OptionError(`--json ${flags.json}: directory ${dir} does not exist`);
    if (existsSync(json) && statSync(json).isDirectory()) throw new OptionError(`--json ${flags.json}: is a directory`);
  }
  const opts = { quick: !!flags.quick, smoke: !!flags.smoke, engine };
  const rows = await runSuites(suites, opts, (line) => process.stderr.write(`${line}\n`));
  process.stdout.write(formatTable(rows));
  if (json !== null) writeFileAtomic(json, `${JSON.stringify(rows, null, 2)}\n`);
  return 0;
}
