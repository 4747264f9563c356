/**
 * A throwaway redis-server for tests: a free port on 127.0.0.1, no persistence, killed on stop().
 * Requires the redis-server binary (Debian package redis-server) on PATH or in REDIS_SERVER_BIN.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './ports.js';

export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: a crash, not a clean shutdown). Safe to call more than once. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing answers, like a hung node. */
  pause(): void;
  /** Undoes pause() (SIGCONT). */
  resume(): void;
}

const live = new Set<ChildProcess>();
// Last resort if a test run dies without calling stop(): never leave a redis-server behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Sends PING and resolves on +PONG; rejects on any error or after timeoutMs. */
export async function pingRedis(port: number, timeoutMs = 500): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => {
      fail(new Error('PING timed out'));
    });
    socket.once('error', fail);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      // NOAUTH: a server started with --requirepass is up, it just wants a password.
      if (/^(\+PONG|-NOAUTH)/.test(data.toString())) resolve();
      else reject(new Error(`unexpected reply ${data.toString().trim()}`));
    });
  });
}

async function waitUntil(check: () => Promise<void>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`, { cause: err });
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

export interface RedisOptions {
  /** Fixed port; default a free one. */
  readonly port?: number;
  /** Extra redis-server arguments, e.g. ['--requirepass', 'secret']. */
  readonly args?: readonly string[];
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisHandle> {
  const port = options.port ?? (await freePort());
  const binary = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  let child: ChildProcess | undefined;
  let output = '';

  const launch = async (): Promise<void> => {
    const proc = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    live.add(proc);
    proc.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    proc.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) => {
      proc.once('error', (err) => {
        reject(new Error(`cannot run ${binary} (apt-get install redis-server): ${err.message}`));
      });
      proc.once('exit', (code) => {
        live.delete(proc);
        reject(new Error(`redis-server exited with ${String(code)} before answering PING:\n${output}`));
      });
    });
    exited.catch(() => undefined); // observed through the race below only
    await Promise.race([waitUntil(() => pingRedis(port), 10_000, 'redis-server did not start'), exited]);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => {
        resolve();
      });
      proc.kill('SIGKILL');
    });
    live.delete(proc);
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    pause: () => {
      child?.kill('SIGSTOP');
    },
    resume: () => {
      child?.kill('SIGCONT');
    },
  };
}
