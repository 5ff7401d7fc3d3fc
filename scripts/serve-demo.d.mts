// Types of scripts/serve-demo.mjs for the TypeScript tests.
import type { Server } from 'node:http';
export function serveDemo(opts?: { port?: number; root?: string; host?: string }): Promise<{ server: Server; url: string }>;
