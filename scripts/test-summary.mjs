// Prints one closing line from vitest's JSON report: "tests: N passed, N failed, N skipped".
// Where CI is set, a skipped test fails the run (a check that cannot fail is a defect).
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'out/vitest.json';
const r = JSON.parse(readFileSync(file, 'utf8'));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
if (r.numFailedTests > 0 || r.numTotalTests === 0) process.exit(1);
if (skipped > 0 && process.env.CI) {
  console.error(`tests: ${skipped} test(s) skipped while CI is set`);
  process.exit(1);
}
