import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { jest } from '@jest/globals';
import { BatchedDestination, isoTime } from './logger.js';

const nextTurn = (): Promise<void> => new Promise((done) => setImmediate(done));

function sink(): { writes: string[]; write(chunk: string): void } {
  const writes: string[] = [];
  return {
    writes,
    write(chunk) {
      writes.push(chunk);
    },
  };
}

describe('batched log destination', () => {
  it('writes the lines of one event-loop turn in one write, in order, when the turn ends', async () => {
    const out = sink();
    const logger = pino({ base: null, timestamp: false }, new BatchedDestination(out));
    logger.info('one');
    logger.info('two');
    expect(out.writes).toEqual([]);
    await nextTurn();
    expect(out.writes).toHaveLength(1);
    expect(
      out.writes[0]
        ?.split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ).toEqual(['one', 'two']);
    logger.info('three'); // a quiet server: the next line does not wait for more
    await nextTurn();
    expect(out.writes).toHaveLength(2);
    expect(out.writes[1]).toContain('"msg":"three"');
  });

  it('writes at once when the batch reaches its size limit', () => {
    const out = sink();
    const destination = new BatchedDestination(out, 100);
    destination.write(`${'a'.repeat(60)}\n`);
    expect(out.writes).toEqual([]);
    destination.write(`${'b'.repeat(60)}\n`);
    expect(out.writes).toEqual([`${'a'.repeat(60)}\n${'b'.repeat(60)}\n`]);
  });

  it('flushes synchronously on flushSync() and on logger.flush()', () => {
    const out = sink();
    const destination = new BatchedDestination(out);
    const logger = pino({ base: null, timestamp: false }, destination);
    logger.info('pending');
    destination.flushSync();
    expect(out.writes).toHaveLength(1);
    logger.info('again');
    let flushed = false;
    logger.flush(() => (flushed = true));
    expect(flushed).toBe(true);
    expect(out.writes).toHaveLength(2);
    destination.flushSync(); // nothing pending: no empty write
    expect(out.writes).toHaveLength(2);
  });

  it.each([
    ['info', 0], // the last line of a graceful shutdown, then process.exit(0)
    ['fatal', 1], // an uncaught exception, then process.exit(1)
  ])('loses no line when the process exits right after logging at %s', (level, code) => {
    // The logger module itself, run by Node (type stripping) in a child process whose stdout is a pipe.
    const logger = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), 'logger.ts')).href;
    const script = `
      import { createLogger } from ${JSON.stringify(logger)};
      const log = createLogger('test', 'info', { buffered: true });
      for (let i = 0; i < 1000; i++) log.info({ i }, 'request');
      log[${JSON.stringify(level)}]('last words');
      process.exit(${code});
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
      encoding: 'utf8',
    });
    expect(run.status).toBe(code);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1001);
    expect(lines.at(-1)).toContain('"msg":"last words"');
    expect(lines.at(-1)).toContain(`"level":"${level}"`);
  });
});

describe('timestamps', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('are what pino.stdTimeFunctions.isoTime gives, computed once per millisecond', () => {
    const now = jest.spyOn(Date, 'now');
    for (const millis of [0, 1_790_000_000_123, 1_790_000_000_123, 1_790_000_000_124]) {
      now.mockReturnValue(millis);
      expect(isoTime()).toBe(pino.stdTimeFunctions.isoTime());
    }
    const format = jest.spyOn(Date.prototype, 'toISOString');
    now.mockReturnValue(1_790_000_000_200);
    const first = isoTime();
    expect(isoTime()).toBe(first);
    expect(format).toHaveBeenCalledTimes(1);
  });
});
