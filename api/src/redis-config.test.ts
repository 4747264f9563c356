import { ConfigError } from '#common/env.js';
import { describeRedis, loadRedisTarget, redisMode, type ReadFile } from './redis-config.js';
import { explainConnectionError } from './store.js';

const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n';

/** A file system of a few files; any other path fails the way a missing file does. */
function files(contents: Record<string, string>): ReadFile {
  return (path) => {
    const content = Object.hasOwn(contents, path) ? contents[path] : undefined;
    if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return Buffer.from(content);
  };
}

const noFiles = files({});

describe('loadRedisTarget', () => {
  it('is a plain standalone Redis without TLS or credentials by default', () => {
    expect(loadRedisTarget({}, noFiles)).toEqual({
      topology: 'standalone',
      host: '127.0.0.1',
      port: 6379,
      tls: undefined,
      db: 0,
      username: undefined,
      password: undefined,
    });
  });

  it('reads a cluster over TLS with a CA file, a server name and an ACL user whose password is in a file', () => {
    const target = loadRedisTarget(
      {
        REDIS_URL: 'redis://clustercfg.hello.abc123.memorydb.eu-west-1.amazonaws.com:6379',
        REDIS_TOPOLOGY: 'cluster',
        REDIS_TLS: 'true',
        REDIS_TLS_CA_FILE: '/etc/redis-ca/ca.crt',
        REDIS_TLS_SERVER_NAME: 'clustercfg.hello.abc123.memorydb.eu-west-1.amazonaws.com',
        REDIS_USERNAME: 'hello-api',
        REDIS_PASSWORD_FILE: '/etc/redis-auth/password',
      },
      files({ '/etc/redis-ca/ca.crt': CA_PEM, '/etc/redis-auth/password': 'from-the-file\n' }),
    );
    expect(target).toEqual({
      topology: 'cluster',
      host: 'clustercfg.hello.abc123.memorydb.eu-west-1.amazonaws.com',
      port: 6379,
      tls: {
        ca: CA_PEM,
        caFile: '/etc/redis-ca/ca.crt',
        serverName: 'clustercfg.hello.abc123.memorydb.eu-west-1.amazonaws.com',
      },
      db: 0,
      username: 'hello-api',
      password: 'from-the-file',
    });
    expect(redisMode(target)).toEqual({ topology: 'cluster', tls: true });
  });

  it('takes TLS from rediss:// and credentials from the URL, the variables winning over the URL', () => {
    const target = loadRedisTarget(
      { REDIS_URL: 'rediss://urluser:p%40ss%3Aword@[::1]:7000/3', REDIS_USERNAME: 'envuser' },
      noFiles,
    );
    expect(target).toMatchObject({
      host: '::1',
      port: 7000,
      db: 3,
      username: 'envuser',
      password: 'p@ss:word',
    });
    expect(target.tls).toEqual({ ca: undefined, caFile: undefined, serverName: undefined });
    expect(
      loadRedisTarget({ REDIS_URL: 'redis://:inurl@r:6379', REDIS_PASSWORD: 'inenv' }, noFiles).password,
    ).toBe('inenv');
  });

  it.each<[Record<string, string>, string]>([
    [{ REDIS_TOPOLOGY: 'sharded' }, 'REDIS_TOPOLOGY must be one of standalone, cluster, got "sharded"'],
    [{ REDIS_TOPOLOGY: 'Cluster' }, 'REDIS_TOPOLOGY must be one of standalone, cluster'],
    [{ REDIS_TOPOLOGY: 'cluster', REDIS_URL: 'redis://r:6379/2' }, 'a Redis Cluster has only database 0'],
    [{ REDIS_TLS: 'yes' }, 'REDIS_TLS must be true or false, got "yes"'],
    [{ REDIS_TLS: 'false', REDIS_URL: 'rediss://r:6379' }, 'REDIS_TLS is false but REDIS_URL uses rediss://'],
    [{ REDIS_TLS_CA_FILE: '/ca.crt' }, 'REDIS_TLS_CA_FILE is set but TLS is off'],
    [{ REDIS_TLS_SERVER_NAME: 'redis.example.com' }, 'REDIS_TLS_SERVER_NAME is set but TLS is off'],
    [
      { REDIS_TLS: 'true', REDIS_TLS_CA_FILE: '/missing.crt' },
      'REDIS_TLS_CA_FILE names "/missing.crt", which cannot be read (ENOENT)',
    ],
    [{ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: '/key.pem' }, 'holds no PEM certificate'],
    [{ REDIS_TLS: 'true', REDIS_TLS_CA_FILE: '/huge.pem' }, 'at most 1048576 are accepted'],
    [
      { REDIS_TLS: 'true', REDIS_TLS_SERVER_NAME: 'evil.com\r\nx' },
      'REDIS_TLS_SERVER_NAME must be a DNS name',
    ],
    [{ REDIS_TLS: 'true', REDIS_TLS_SERVER_NAME: 'a..b' }, 'REDIS_TLS_SERVER_NAME must be a DNS name'],
    [
      { REDIS_TLS: 'true', REDIS_TLS_SERVER_NAME: '-x.example.com' },
      'REDIS_TLS_SERVER_NAME must be a DNS name',
    ],
    [
      { REDIS_TLS: 'true', REDIS_TLS_SERVER_NAME: 'x'.repeat(64) + '.com' },
      'REDIS_TLS_SERVER_NAME must be a DNS name',
    ],
    [
      { REDIS_TLS: 'true', REDIS_TLS_SERVER_NAME: 'a.'.repeat(127) + 'com' },
      'REDIS_TLS_SERVER_NAME must be a DNS name',
    ],
    [
      { REDIS_TLS: 'true', REDIS_TLS_SERVER_NAME: 'rédis.example.com' },
      'REDIS_TLS_SERVER_NAME must be a DNS name',
    ],
    [
      { REDIS_USERNAME: 'two words' },
      'REDIS_USERNAME (or the user in REDIS_URL) must be 1 to 128 printable ASCII',
    ],
    [{ REDIS_USERNAME: 'u'.repeat(129) }, 'must be 1 to 128 printable ASCII'],
    [{ REDIS_URL: 'redis://b%00d:pw@r:6379' }, 'must be 1 to 128 printable ASCII'],
    [
      { REDIS_PASSWORD: 'a', REDIS_PASSWORD_FILE: '/pw' },
      'set REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both',
    ],
    [{ REDIS_PASSWORD_FILE: '/nope' }, 'REDIS_PASSWORD_FILE names "/nope", which cannot be read (ENOENT)'],
    [{ REDIS_PASSWORD_FILE: '/empty' }, 'REDIS_PASSWORD_FILE names an empty file'],
    [{ REDIS_PASSWORD_FILE: '/multiline' }, 'the Redis password contains a control character'],
    [{ REDIS_PASSWORD: 'x'.repeat(4097) }, 'the Redis password is longer than 4096 characters'],
    [{ REDIS_URL: 'redis://:a%0Db@r:6379' }, 'the Redis password contains a control character'],
    [{ REDIS_URL: 'redis://:%E0%A4%A@r:6379' }, 'REDIS_URL credentials are not valid percent-encoding'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL must use redis:// or rediss://'],
    [{ REDIS_URL: 'redis://r:6379/abc' }, 'database number'],
  ])('rejects %j with a clear message', (env, message) => {
    const fs = files({
      '/key.pem': '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n',
      '/huge.pem': CA_PEM + ' '.repeat(1024 * 1024),
      '/pw': 'x',
      '/empty': '\n',
      '/multiline': 'line one\nline two\n',
    });
    expect(() => loadRedisTarget(env, fs)).toThrow(ConfigError);
    expect(() => loadRedisTarget(env, fs)).toThrow(message);
  });

  it('never puts a password in an error message', () => {
    for (const password of ['s3cret\tvalue', 'x'.repeat(5000) + 'MARK']) {
      let message = '';
      try {
        loadRedisTarget({ REDIS_PASSWORD_FILE: '/pw' }, files({ '/pw': password }));
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('s3cret');
      expect(message).not.toContain('MARK');
    }
  });

  it('describes the target without the password', () => {
    const target = loadRedisTarget(
      {
        REDIS_URL: 'rediss://hello:hunter2@redis.internal:6380',
        REDIS_TOPOLOGY: 'cluster',
        REDIS_TLS_SERVER_NAME: 'redis.example.com',
      },
      noFiles,
    );
    const described = describeRedis(target);
    expect(described).toEqual({
      topology: 'cluster',
      host: 'redis.internal',
      port: 6380,
      tls: true,
      tlsServerName: 'redis.example.com',
      db: 0,
      username: 'hello',
      auth: true,
    });
    expect(JSON.stringify(described)).not.toContain('hunter2');
  });
});

describe('explainConnectionError', () => {
  const error = (message: string, code?: string): Error => Object.assign(new Error(message), { code });

  it.each<[Error, RegExp]>([
    [error('WRONGPASS invalid username-password pair or user is disabled.'), /credentials.*REDIS_PASSWORD/],
    [error('NOAUTH Authentication required.'), /credentials/],
    [
      error("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID'),
      /REDIS_TLS_SERVER_NAME/,
    ],
    [
      error('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'),
      /trusted CA.*REDIS_TLS_CA_FILE/,
    ],
    [error('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'), /REDIS_TLS_CA_FILE/],
    [error('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'), /speaks TLS/],
    [
      Object.assign(error('Failed to refresh slots cache.'), { lastNodeError: error('WRONGPASS invalid') }),
      /credentials/,
    ],
    [error('connect ECONNREFUSED 127.0.0.1:6379', 'ECONNREFUSED'), /^cannot reach Redis$/],
  ])('explains %s', (err, expected) => {
    expect(explainConnectionError(err)).toMatch(expected);
  });
});
