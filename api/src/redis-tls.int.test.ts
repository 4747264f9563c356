// The built API (dist/api/main.js) against a real redis-server speaking TLS with a CA the harness makes,
// and an ACL user: it works with the right CA, server name and password, and with any one of them wrong
// it stays unready, answers 503, and its log says which setting to check, without the password.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { startApiProcess, stopApiProcess, type ApiProcess } from '../../test/support/api-process.js';
import { waitFor } from '../../test/support/wait.js';
import {
  TLS_SERVER_NAME,
  makeTestCa,
  startTlsRedis,
  type AclUser,
  type TestCa,
  type TlsRedisHandle,
} from '../../test/support/redis-tls.js';

jest.setTimeout(60_000);

const USER: AclUser = { username: 'hello-api', password: 'acl-pw-7f3a9c1e5b' };
const WRONG_PASSWORD = 'not-the-pw-0b2d4f6a8c';
let ca: TestCa;
let redis: TlsRedisHandle;
let passwordFile: string;
const running = new Set<ApiProcess>();

beforeAll(async () => {
  // Test the program as shipped: compile the API project (and common) first.
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'api'], { stdio: 'inherit' });
  ca = await makeTestCa();
  redis = await startTlsRedis(ca, USER);
  passwordFile = join(ca.dir, 'password');
  await writeFile(passwordFile, `${USER.password}\n`); // a trailing newline, as `echo` or an editor leaves
});

afterEach(async () => {
  await Promise.all([...running].map(stopApiProcess));
  running.clear();
});

afterAll(async () => {
  await redis.stop();
  await ca.remove();
});

/** The settings that work; each failing case changes one. */
function goodEnv(): Record<string, string> {
  return {
    REDIS_URL: redis.tlsUrl,
    REDIS_TLS_CA_FILE: ca.caFile,
    REDIS_TLS_SERVER_NAME: TLS_SERVER_NAME,
    REDIS_USERNAME: USER.username,
    REDIS_PASSWORD_FILE: passwordFile,
    LOG_LEVEL: 'info',
    SHUTDOWN_DRAIN_MS: '0',
  };
}

async function spawn(env: Record<string, string>, waitReady: boolean): Promise<ApiProcess> {
  const api = await startApiProcess({ redisUrl: redis.tlsUrl, env, waitReady });
  running.add(api);
  return api;
}

async function status(api: ApiProcess, path: string, init?: RequestInit): Promise<number> {
  return (await fetch(`${api.base}${path}`, init)).status;
}

describe('TLS with a private CA and an ACL user', () => {
  it('stores and reads over TLS, and says so on /readyz, /healthz/redis and /metrics', async () => {
    const api = await spawn(goodEnv(), true);
    const put = {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"dateOfBirth":"1984-03-05"}',
    };
    expect(await status(api, '/hello/tlsuser', put)).toBe(204);
    const got = await fetch(`${api.base}/hello/tlsuser`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as { message: string }).message).toMatch(/^Hello, tlsuser! /);
    const mode = { topology: 'standalone', tls: true };
    expect(await (await fetch(`${api.base}/readyz`)).json()).toEqual({ status: 'ready', redisMode: mode });
    expect(await (await fetch(`${api.base}/healthz/redis`)).json()).toEqual({
      status: 'ok',
      redis: 'up',
      redisMode: mode,
    });
    expect(await (await fetch(`${api.base}/metrics`)).text()).toContain(
      'hello_redis_mode_info{topology="standalone",tls="true"} 1',
    );
    api.proc.kill('SIGTERM');
    await api.exited;
    expect(api.output()).toContain('"tlsServerName":"redis.hello.test"');
    expect(api.output()).not.toContain(USER.password);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    [
      'a CA that did not sign the certificate',
      { REDIS_TLS_CA_FILE: '<other CA>' },
      /not signed by a trusted CA: check REDIS_TLS_CA_FILE/,
    ],
    [
      'no CA file (the system CAs do not know the test CA)',
      { REDIS_TLS_CA_FILE: '' },
      /not signed by a trusted CA/,
    ],
    [
      'no server-name override (the certificate is for redis.hello.test, not 127.0.0.1)',
      { REDIS_TLS_SERVER_NAME: '' },
      /not issued for the name the API checks: check REDIS_TLS_SERVER_NAME/,
    ],
    [
      'a wrong password',
      { REDIS_PASSWORD_FILE: '', REDIS_PASSWORD: WRONG_PASSWORD },
      /refused the credentials: check REDIS_USERNAME/,
    ],
    ['no user name (the default user is off)', { REDIS_USERNAME: '' }, /refused the credentials/],
  ])('with %s: never ready, 503, and a log line that says what to check', async (_name, change, logLine) => {
    const env = { ...goodEnv(), ...change };
    if (env.REDIS_TLS_CA_FILE === '<other CA>') env.REDIS_TLS_CA_FILE = ca.otherCaFile;
    const api = await spawn(env, false);
    await waitFor(() => logLine.test(api.output()), {
      describe: `a log line matching ${String(logLine)}`,
      timeoutMs: 15_000,
      intervalMs: 50,
    });
    expect(await status(api, '/readyz')).toBe(503);
    expect(await status(api, '/hello/tlsuser')).toBe(503);
    expect(await status(api, '/healthz/redis')).toBe(503);
    for (const secret of [USER.password, WRONG_PASSWORD]) expect(api.output()).not.toContain(secret);
  });

  it('refuses to start on a CA file that holds no certificate, in one line naming the variable', async () => {
    const api = await spawn({ ...goodEnv(), REDIS_TLS_CA_FILE: ca.keyFile }, false);
    expect(await api.exited).toBe(1);
    const lines = api.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('invalid configuration: REDIS_TLS_CA_FILE names');
    expect(lines[0]).toContain('which holds no PEM certificate');
  });
});
