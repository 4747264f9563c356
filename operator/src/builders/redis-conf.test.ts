// The redis.conf the operator writes, read by a real redis-server: the password from the Secret is the
// one Redis demands, and a password edited to carry a second line (the attack) never reaches the file.
// The same edit written raw shows what it would have done: a directive of the attacker's choosing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../test/support/ports.js';
import { pingRedis } from '../../../test/support/redis.js';
import { redisConfigFile } from './redis.js';

const PASSWORD = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA';
let dir: string;
const servers: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'redis-conf-'));
});

afterAll(() => {
  for (const server of servers) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts redis-server on `config` (its port and data directory moved to this test's). */
async function serve(config: string): Promise<number> {
  const port = await freePort();
  const file = join(dir, `${String(port)}.conf`);
  writeFileSync(
    file,
    config.replace(/^dir .*$/m, `dir ${dir}`).replace(/^port .*$/m, `port ${String(port)}\nbind 127.0.0.1`),
  );
  const server = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', [file], { stdio: 'ignore' });
  servers.push(server);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await pingRedis(port); // a PONG, or NOAUTH: up either way
      return port;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function cli(port: number, password: string | undefined, ...command: string[]): string {
  const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning'];
  const result = spawnSync('redis-cli', ['-p', String(port), ...auth, ...command], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.trim();
}

it('makes Redis demand exactly the Secret’s password', async () => {
  const port = await serve(redisConfigFile(PASSWORD));
  expect(cli(port, undefined, 'GET', 'k')).toMatch(/NOAUTH/);
  expect(cli(port, 'wrong-password-0123456789', 'PING')).toMatch(/WRONGPASS|invalid/);
  expect(cli(port, PASSWORD, 'PING')).toBe('PONG');
}, 30_000);

it('never writes an edited password that would add a directive', async () => {
  const injected = `${PASSWORD}\nrename-command CONFIG ""`;
  expect(() => redisConfigFile(injected)).toThrow(/may only contain letters, digits/);
  // What the same edit does to a configuration that takes it as it is: CONFIG is gone.
  const raw = redisConfigFile(PASSWORD).replace(`requirepass ${PASSWORD}`, `requirepass ${injected}`);
  const port = await serve(raw);
  expect(cli(port, PASSWORD, 'CONFIG', 'GET', 'port')).toMatch(/unknown command/i);
}, 30_000);
