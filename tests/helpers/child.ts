// Runs a command as a child process and collects its output (CLI, runtime and packaging tests).
import { spawn } from 'node:child_process';

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

export interface RunOptions {
  cwd?: string;
  /** Added to this process's environment (NO_COLOR=1 is always set). */
  env?: Record<string, string>;
  /** Kill the child's whole process group after this many ms (it then runs detached, in a group of its own). */
  timeoutMs?: number;
}

/** Resolves with the exit code and all of stdout and stderr; rejects only when the command cannot be started. */
export function runChild(cmd: string, args: string[], opts: RunOptions = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const timed = opts.timeoutMs !== undefined;
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env, NO_COLOR: '1' }, detached: timed });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = timed ? setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
