// The backup and restore scripts the operator puts in its backup pods and in the Redis StatefulSet's
// restore init container, run by `sh` against a real redis-server (redis-cli, redis-check-rdb and
// redis-server are the same programs as in the Redis image). Paths that are volumes in a pod are
// temporary directories here.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../../test/support/ports.js';
import { startRedis, type RedisHandle } from '../../../test/support/redis.js';
import { parseBackupReport } from '../backup/status.js';
import { BACKUP_FILE_PATTERN, BACKUP_SCRIPT, RESTORE_SCRIPT } from './backup.js';

const PASSWORD = 'pA55-word_0123456789abcdef';
let root: string;
let backups: string;
let source: RedisHandle;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hello-backup-'));
  backups = join(root, 'backup');
  spawnSync('mkdir', ['-p', backups]);
  source = await startRedis({ args: ['--requirepass', PASSWORD] });
  const client = new Redis(source.port, '127.0.0.1', { password: PASSWORD });
  await client.set('hello:user:alice', '1990-05-17');
  await client.set('hello:user:bob', '1985-12-01');
  client.disconnect();
}, 30_000);

afterAll(async () => {
  await source.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Runs a script as its container would, with the pod's environment; returns its exit and last word. */
function run(script: string, env: Record<string, string>) {
  const log = join(root, 'termination-log');
  writeFileSync(log, '');
  const result = spawnSync('sh', ['-c', script], {
    env: { PATH: process.env.PATH ?? '', TERMINATION_LOG: log, TMPDIR: root, BACKUP_DIR: backups, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, message: readFileSync(log, 'utf8'), output: result.stdout + result.stderr };
}

const backUp = (password = PASSWORD) =>
  run(BACKUP_SCRIPT, {
    REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(source.port),
    RETAIN: '2',
    REDISCLI_AUTH: password,
  });

const files = () => readdirSync(backups).sort();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the backup script', () => {
  it('writes a checked snapshot, reports its file and size, and keeps the newest RETAIN', async () => {
    const reports = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) await sleep(1100); // file names have a one-second resolution
      const result = backUp();
      // The output names the cause when it fails.
      expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: result.output });
      expect(result.output).toMatch(/^backed up backup-\d{8}T\d{6}Z\.rdb: \d+ bytes$/m);
      const report = parseBackupReport(result.message);
      expect(report).toBeDefined();
      reports.push(report!);
    }
    expect(files()).toEqual([reports[1]!.file, reports[2]!.file].sort());
    for (const file of files()) expect(file).toMatch(BACKUP_FILE_PATTERN);
    expect(readFileSync(join(backups, reports[2]!.file)).length).toBe(reports[2]!.bytes);
    expect(reports[2]!.bytes).toBeGreaterThan(0);
  }, 60_000);

  it('fails with the reason when Redis refuses it, and leaves the backups as they were', () => {
    const before = files();
    const result = backUp('wrong-password');
    expect(result.status).toBe(1);
    expect(result.message).toMatch(/^redis-cli --rdb failed: /);
    expect(parseBackupReport(result.message)).toBeUndefined();
    expect(files()).toEqual(before); // no partial file, nothing deleted
  });
});

describe('the restore script', () => {
  const restore = async (data: string, extra: Record<string, string> = {}) =>
    run(RESTORE_SCRIPT, {
      DATA_DIR: data,
      RESTORE_PORT: String(await freePort()),
      RESTORE_CLAIM: 'old-redis-backup',
      ...extra,
    });

  /** A redis-server as the StatefulSet runs it (append-only) on `data`; resolves to a client. */
  const serve = async (data: string) => {
    const server = await startRedis({ args: ['--appendonly', 'yes', '--dir', data] });
    return { server, client: new Redis(server.port, '127.0.0.1') };
  };

  it('turns the newest backup into the append-only file Redis loads, and never overwrites data', async () => {
    const data = mkdtempSync(join(root, 'data-'));
    const result = await restore(data);
    expect({ status: result.status, output: result.output }).toEqual({
      status: 0,
      output: expect.stringMatching(
        /restored backup-\d{8}T\d{6}Z\.rdb from claim old-redis-backup: 2 keys/,
      ) as string,
    });
    expect(existsSync(join(data, 'appendonlydir', 'appendonly.aof.manifest'))).toBe(true);
    expect(existsSync(join(data, 'dump.rdb'))).toBe(false);

    let { server, client } = await serve(data);
    try {
      expect(await client.get('hello:user:alice')).toBe('1990-05-17');
      await client.set('hello:user:carol', '2000-02-29'); // written after the restore
    } finally {
      client.disconnect();
      await server.stop();
    }
    // A restart runs the init container again: the volume holds data, so nothing is restored.
    const again = await restore(data);
    expect(again.status).toBe(0);
    expect(again.output).toMatch(/the volume holds data already: nothing restored/);
    ({ server, client } = await serve(data));
    try {
      expect(await client.get('hello:user:carol')).toBe('2000-02-29');
    } finally {
      client.disconnect();
      await server.stop();
    }
  }, 60_000);

  it('restores the file it is given, and fails clearly when it is not there', async () => {
    const [oldest] = files();
    const data = mkdtempSync(join(root, 'data-'));
    expect((await restore(data, { RESTORE_FILE: oldest! })).status).toBe(0);

    const missing = await restore(mkdtempSync(join(root, 'data-')), {
      RESTORE_FILE: 'backup-19990101T000000Z.rdb',
    });
    expect(missing.status).toBe(1);
    expect(missing.message).toBe('no backup backup-19990101T000000Z.rdb in claim old-redis-backup');
  }, 60_000);

  it('fails clearly on a backup that is not an RDB file', async () => {
    const bogus = 'backup-20000101T000000Z.rdb';
    writeFileSync(join(backups, bogus), 'not an rdb file');
    try {
      const result = await restore(mkdtempSync(join(root, 'data-')), { RESTORE_FILE: bogus });
      expect(result.status).toBe(1);
      expect(result.message).toBe(`redis-server could not load ${bogus}`);
    } finally {
      rmSync(join(backups, bogus));
    }
  }, 60_000);
});
