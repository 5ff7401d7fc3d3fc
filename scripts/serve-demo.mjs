// Serves the built demo (dist/demo) on 127.0.0.1: a tiny static server on node:http, no dependency.
// Run: npm run demo [-- --port N] (default 8080; 0 picks a free port; builds the demo first if dist/demo is
// missing). Importable: serveDemo({ port, root }).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.safetensors': 'application/octet-stream',
};

/** Starts the server; resolves with it and its URL once it listens. */
export function serveDemo({ port = 8080, root = join(repo, 'dist', 'demo'), host = '127.0.0.1' } = {}) {
  if (!existsSync(join(root, 'index.html'))) {
    return Promise.reject(new Error(`${root}/index.html is missing: build the demo first (npm run demo:build)`));
  }
  const base = resolve(root);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden\n');
      return;
    }
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${path}\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'content-length': statSync(file).size,
      // Cross-origin isolation: browsers then give performance.now() 5 µs resolution instead of 100 µs (benchmarks).
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', (e) => fail(new Error(`demo server: cannot listen on ${host}:${port} (${e.message})`)));
    server.listen(port, host, () => {
      const addr = server.address();
      ok({ server, url: `http://${host}:${typeof addr === 'object' && addr ? addr.port : port}/` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo server: --port ${process.argv[i + 1] ?? process.env.PORT}: expected an integer in [0, 65535]`);
    process.exit(2);
  }
  const ready = existsSync(join(repo, 'dist', 'demo', 'index.html')) ? Promise.resolve() : import('./build-demo.mjs').then((m) => m.buildDemo());
  ready.then(() => serveDemo({ port })).then(
    ({ url }) => console.log(`recur demo at ${url} (Ctrl-C stops)`),
    (e) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
