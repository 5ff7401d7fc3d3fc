#!/usr/bin/env node
// The `recur` command: runs the bundled CLI (dist/node/cli.js, built by `npm run build`).
let cli;
try {
  cli = await import('../dist/node/cli.js');
} catch (e) {
  const missing = e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('cli.js');
  process.stderr.write(missing ? 'recur: dist/node/cli.js is missing; run `npm run build` first\n' : `recur: could not load the CLI: ${e?.message ?? e}\n`);
  process.exit(1);
}
const code = await cli.main(process.argv);
process.exitCode = code;
// If a library still holds the event loop (a GPU instance, a worker), leave anyway once output is flushed.
setTimeout(() => process.exit(code), 2000).unref();
