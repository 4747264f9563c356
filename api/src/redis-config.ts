/**
 * Where and how the API reaches Redis, read from the environment: a standalone server or a Redis Cluster
 * (the configuration endpoint of MemoryDB or ElastiCache as the seed), TLS with an optional CA file and
 * certificate name, and an ACL user. Secrets (the password) are read here and never leave RedisTarget
 * except into the client: describeRedis() is what may be logged or shown.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, readBoolean, readEnum, readOptionalString, readString } from '#common/env.js';

type Env = Readonly<Record<string, string | undefined>>;

export const REDIS_TOPOLOGIES = ['standalone', 'cluster'] as const;
export type RedisTopology = (typeof REDIS_TOPOLOGIES)[number];

export interface RedisTls {
  /** PEM certificates to trust instead of Node's built-in CAs (Mozilla's list); undefined: those. */
  readonly ca: string | undefined;
  /** Where `ca` came from, for the logs. */
  readonly caFile: string | undefined;
  /** The name sent as SNI and checked against the certificate; undefined: the host of REDIS_URL. */
  readonly serverName: string | undefined;
}

/** Where Redis is, split out of REDIS_URL so that the URL (and its password) never needs logging. */
export interface RedisTarget {
  readonly topology: RedisTopology;
  readonly host: string;
  readonly port: number;
  /** undefined: plain TCP. */
  readonly tls: RedisTls | undefined;
  readonly db: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/** What may be shown about the target: the mode in use, never a credential. */
export interface RedisMode {
  readonly topology: RedisTopology;
  readonly tls: boolean;
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Larger than any CA bundle in use (the Mozilla bundle is about 220 KiB); guards against a wrong mount. */
const MAX_CA_FILE_BYTES = 1024 * 1024;
const MAX_PASSWORD_LENGTH = 4096;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
/** A DNS name: labels of letters, digits and inner hyphens, dot-separated; SNI carries no IP address. */
const DNS_NAME =
  /^(?=.{1,253}$)([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$/;
/** ACL user names: printable ASCII without spaces (Redis splits ACL rules on spaces). */
const ACL_USERNAME = /^[\x21-\x7e]{1,128}$/;
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/** Reads a file named by a variable; a missing or unreadable file is a ConfigError naming both. */
export type ReadFile = (path: string) => Buffer;

function readNamedFile(readFile: ReadFile, variable: string, path: string, maxBytes: number): string {
  let content: Buffer;
  try {
    content = readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`${variable} names ${JSON.stringify(path)}, which cannot be read (${code})`);
  }
  if (content.length > maxBytes) {
    throw new ConfigError(
      `${variable} names a file of ${content.length} bytes; at most ${maxBytes} are accepted`,
    );
  }
  return content.toString('utf8');
}

interface UrlParts {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly db: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

export function parseRedisUrl(value: string): UrlParts {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('REDIS_URL must be a URL like redis://host:6379 or rediss://host:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(`REDIS_URL must use redis:// or rediss://, got "${url.protocol}//"`);
  }
  if (url.hostname === '') throw new ConfigError('REDIS_URL must name a host');
  const dbPath = url.pathname.replace(/^\//, '');
  if (dbPath !== '' && !/^\d{1,2}$/.test(dbPath)) {
    throw new ConfigError('REDIS_URL path must be a database number such as /0');
  }
  const decode = (s: string): string | undefined => {
    if (s === '') return undefined;
    try {
      return decodeURIComponent(s);
    } catch {
      throw new ConfigError('REDIS_URL credentials are not valid percent-encoding');
    }
  };
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'), // IPv6 literals come bracketed
    port: url.port === '' ? 6379 : Number(url.port),
    tls: url.protocol === 'rediss:',
    db: dbPath === '' ? 0 : Number(dbPath),
    username: decode(url.username),
    password: decode(url.password),
  };
}

function readPassword(env: Env, readFile: ReadFile): string | undefined {
  const inline = readOptionalString(env, 'REDIS_PASSWORD');
  const file = readOptionalString(env, 'REDIS_PASSWORD_FILE');
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError('set REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both');
  }
  if (file === undefined) return inline;
  // A file written by hand or by `echo` ends with a newline that is not part of the password.
  const password = readNamedFile(readFile, 'REDIS_PASSWORD_FILE', file, MAX_PASSWORD_LENGTH + 2).replace(
    /\r?\n$/,
    '',
  );
  if (password === '') throw new ConfigError('REDIS_PASSWORD_FILE names an empty file');
  return password;
}

function checkPassword(password: string | undefined): void {
  if (password === undefined) return;
  // The value itself is never put in a message.
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new ConfigError(`the Redis password is longer than ${MAX_PASSWORD_LENGTH} characters`);
  }
  if (CONTROL_CHARACTER.test(password)) {
    throw new ConfigError('the Redis password contains a control character (a line break, a tab, ...)');
  }
}

function readUsername(env: Env, fromUrl: string | undefined): string | undefined {
  const username = readOptionalString(env, 'REDIS_USERNAME') ?? fromUrl;
  if (username !== undefined && !ACL_USERNAME.test(username)) {
    throw new ConfigError(
      'REDIS_USERNAME (or the user in REDIS_URL) must be 1 to 128 printable ASCII characters without spaces',
    );
  }
  return username;
}

function readTls(env: Env, urlTls: boolean, readFile: ReadFile): RedisTls | undefined {
  const forced =
    readOptionalString(env, 'REDIS_TLS') === undefined ? undefined : readBoolean(env, 'REDIS_TLS', false);
  if (forced === false && urlTls) {
    throw new ConfigError(
      'REDIS_TLS is false but REDIS_URL uses rediss://, which means TLS; make them agree',
    );
  }
  const enabled = forced ?? urlTls;
  const caFile = readOptionalString(env, 'REDIS_TLS_CA_FILE');
  const serverName = readOptionalString(env, 'REDIS_TLS_SERVER_NAME');
  if (!enabled) {
    for (const [name, value] of [
      ['REDIS_TLS_CA_FILE', caFile],
      ['REDIS_TLS_SERVER_NAME', serverName],
    ] as const) {
      if (value !== undefined) {
        throw new ConfigError(`${name} is set but TLS is off: use a rediss:// URL or set REDIS_TLS=true`);
      }
    }
    return undefined;
  }
  if (serverName !== undefined && !DNS_NAME.test(serverName)) {
    throw new ConfigError(
      'REDIS_TLS_SERVER_NAME must be a DNS name such as redis.example.com (letters, digits, "-" and ".")',
    );
  }
  let ca: string | undefined;
  if (caFile !== undefined) {
    ca = readNamedFile(readFile, 'REDIS_TLS_CA_FILE', caFile, MAX_CA_FILE_BYTES);
    if (!PEM_CERTIFICATE.test(ca)) {
      throw new ConfigError(
        `REDIS_TLS_CA_FILE names ${JSON.stringify(caFile)}, which holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      );
    }
  }
  return { ca, caFile, serverName };
}

export function loadRedisTarget(env: Env, readFile: ReadFile = readFileSync): RedisTarget {
  const url = parseRedisUrl(readString(env, 'REDIS_URL', DEFAULT_REDIS_URL));
  const topology = readEnum(env, 'REDIS_TOPOLOGY', REDIS_TOPOLOGIES, 'standalone');
  if (topology === 'cluster' && url.db !== 0) {
    throw new ConfigError(
      `REDIS_URL selects database ${url.db}, but a Redis Cluster has only database 0; drop the path or use /0`,
    );
  }
  const password = readPassword(env, readFile) ?? url.password;
  checkPassword(password);
  return {
    topology,
    host: url.host,
    port: url.port,
    tls: readTls(env, url.tls, readFile),
    db: url.db,
    username: readUsername(env, url.username),
    password,
  };
}

/** A target from a URL alone, the way tests and tools name a Redis. */
export function redisTargetFromUrl(url: string): RedisTarget {
  return loadRedisTarget({ REDIS_URL: url });
}

export function redisMode(target: RedisTarget): RedisMode {
  return { topology: target.topology, tls: target.tls !== undefined };
}

/** The target as it may be logged: no URL, no password. */
export function describeRedis(target: RedisTarget): Record<string, unknown> {
  return {
    topology: target.topology,
    host: target.host,
    port: target.port,
    tls: target.tls !== undefined,
    ...(target.tls?.caFile === undefined ? {} : { tlsCaFile: target.tls.caFile }),
    ...(target.tls?.serverName === undefined ? {} : { tlsServerName: target.tls.serverName }),
    db: target.db,
    ...(target.username === undefined ? {} : { username: target.username }),
    auth: target.password !== undefined,
  };
}
