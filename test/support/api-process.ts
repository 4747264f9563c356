// The API as shipped (dist/api/main.js) in a real process on a free port, for the tests that need the
// program rather than createApp(): configuration from the environment, signals, logs, HTTP on a
// socket. A process still running when the test run exits is killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const apiMain = resolve(repoRoot, 'dist/api/main.js');

export interface ApiProcess {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly base: string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

export interface ApiOptions {
  redisUrl: string;
  /** Added to PATH, PORT and REDIS_URL; LOG_LEVEL defaults to warn. */
  env?: Record<string, string>;
  /** Default: a free port. */
  port?: number;
  /** Default true: resolve once /readyz answers 200 (rejects if it exits or takes over 15 s first). */
  waitReady?: boolean;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startApiProcess(options: ApiOptions): Promise<ApiProcess> {
  const port = options.port ?? (await freePort());
  const proc = spawn(process.execPath, [apiMain], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      REDIS_URL: options.redisUrl,
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((done) =>
    proc.once('exit', (code) => {
      live.delete(proc);
      done(code);
    }),
  );
  const api: ApiProcess = { proc, port, base: `http://127.0.0.1:${port}`, exited, output: () => out };
  if (options.waitReady === false) return api;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ready = await fetch(`${api.base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return api;
    if (Date.now() > deadline || proc.exitCode !== null) {
      proc.kill('SIGKILL');
      throw new Error(`the API on port ${String(port)} did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Kills it (SIGKILL) unless it has exited, and waits for the exit. */
export async function stopApiProcess(api: ApiProcess): Promise<void> {
  if (api.proc.exitCode === null && api.proc.signalCode === null) api.proc.kill('SIGKILL');
  await api.exited;
}
