/**
 * A throwaway redis-server speaking TLS, with a test CA the harness makes with openssl: the server's
 * certificate is issued for SERVER_NAME only (not for 127.0.0.1), so a client must name it to verify
 * it, as one reaching a managed Redis through an address the certificate does not list. A second,
 * unrelated CA stands for "the wrong CA". Optionally an ACL user, with the default user switched off.
 * The plain port stays open for the harness's own PING (startRedis waits on it).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';
import { startRedis, type RedisHandle } from './redis.js';

const run = promisify(execFile);

export const TLS_SERVER_NAME = 'redis.hello.test';

export interface TestCa {
  readonly dir: string;
  /** The CA that signed the server's certificate. */
  readonly caFile: string;
  /** A CA that signed nothing the server uses. */
  readonly otherCaFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  remove(): Promise<void>;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A CA, a server certificate for `serverName` signed by it, and a second CA. Short-lived keys (EC P-256). */
export async function makeTestCa(serverName = TLS_SERVER_NAME): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const name of ['ca', 'other-ca']) {
    await openssl(
      dir,
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=hello test ${name}`,
    );
  }
  await openssl(
    dir,
    'req',
    ...ec,
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    `/CN=${serverName}`,
  );
  await writeFile(join(dir, 'server.ext'), `subjectAltName=DNS:${serverName}\n`);
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface AclUser {
  readonly username: string;
  readonly password: string;
}

export interface TlsRedisHandle extends RedisHandle {
  readonly tlsPort: number;
  /** rediss://127.0.0.1:<tlsPort>, no credentials. */
  readonly tlsUrl: string;
}

/** The arguments that make a redis-server speak TLS with `ca`'s server certificate on `tlsPort`. */
export function tlsArgs(ca: TestCa, tlsPort: number): string[] {
  return [
    '--tls-port',
    String(tlsPort),
    '--tls-cert-file',
    ca.certFile,
    '--tls-key-file',
    ca.keyFile,
    '--tls-ca-cert-file',
    ca.caFile,
    // Clients authenticate with an ACL user, not a client certificate (as MemoryDB and ElastiCache do).
    '--tls-auth-clients',
    'no',
  ];
}

/** An ACL user allowed every command on the API's keys only. */
export function aclUserArgs(user: AclUser): string[] {
  return ['--user', user.username, 'on', `>${user.password}`, '~hello:user:*', '+@all'];
}

/** The same, with the password-less default user switched off. */
export function aclArgs(user: AclUser): string[] {
  return [...aclUserArgs(user), '--user', 'default', 'off'];
}

export async function startTlsRedis(ca: TestCa, user?: AclUser): Promise<TlsRedisHandle> {
  const tlsPort = await freePort();
  const redis = await startRedis({ args: [...tlsArgs(ca, tlsPort), ...(user ? aclArgs(user) : [])] });
  return { ...redis, tlsPort, tlsUrl: `rediss://127.0.0.1:${tlsPort}` };
}
