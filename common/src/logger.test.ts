import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { pino, type LoggerOptions as PinoOptions } from 'pino';
import { jest } from '@jest/globals';
import { BatchedDestination, isoTime, requestLineWriter, type RequestLineFields } from './logger.js';

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

describe('request lines', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** A logger writing into `lines`, with a fixed time: createLogger's settings, or pino's defaults. */
  function capture(settings: PinoOptions, lines: string[]) {
    return pino(
      { ...settings, timestamp: () => ',"time":"2026-01-02T03:04:05.006Z"' },
      { write: (line: string) => lines.push(line) },
    );
  }
  const asCreateLogger: PinoOptions = {
    name: 'helloworld-api',
    base: { service: 'helloworld-api' },
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: ['password', '*.password', 'dateOfBirth', '*.dateOfBirth'], censor: '[redacted]' },
  };
  // Node reads a request line one byte to a character: paths hold characters 0 to 255 only.
  const byteString = (maxLength: number) =>
    fc.string({ unit: fc.nat(255).map((c) => String.fromCharCode(c)), maxLength });
  const fields = fc.record({
    reqId: fc.oneof(fc.uuid(), fc.stringMatching(/^[\w.:-]{1,128}$/)),
    method: fc.constantFrom('GET', 'PUT', 'HEAD', 'DELETE', 'M-SEARCH'),
    route: fc.constantFrom('/hello/:username', '/hello', '/healthz', 'unmatched'),
    path: fc.oneof(byteString(300), fc.constantFrom('/hello/a"b\\c', '/x\n\t\u0000\u007f\u00ff')),
    status: fc.integer({ min: 100, max: 999 }),
    durationMs: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(Number.NaN)),
    aborted: fc.boolean(),
  });
  const expected = (f: RequestLineFields) => {
    const { aborted, ...rest } = f;
    return aborted ? { ...rest, aborted } : rest;
  };

  it.each([
    ['createLogger', asCreateLogger],
    ['default pino', {}],
  ])("are the lines logger.info writes (%s's settings), without going through it", (_name, settings) => {
    fc.assert(
      fc.property(
        fc.array(fields, { maxLength: 5 }),
        fc.constantFrom('request', 'req "x"'),
        (all, message) => {
          const mine: string[] = [];
          const theirs: string[] = [];
          const logger = capture(settings, mine).child({}, { redact: [] });
          const reference = capture(settings, theirs).child({}, { redact: [] });
          const info = jest.spyOn(logger, 'info');
          const write = requestLineWriter(logger, message);
          for (const f of all) {
            write(f);
            reference.info(expected(f), message);
          }
          expect(mine).toEqual(theirs);
          expect(info).not.toHaveBeenCalled();
          info.mockRestore();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('follow the logger: its level, and its bindings when they change', () => {
    const lines: string[] = [];
    const logger = capture(asCreateLogger, lines).child({}, { redact: [] });
    const write = requestLineWriter(logger);
    const f = {
      reqId: 'r',
      method: 'GET',
      route: 'unmatched',
      path: '/',
      status: 404,
      durationMs: 1.5,
      aborted: false,
    };
    logger.level = 'warn';
    write(f);
    expect(lines).toEqual([]);
    logger.level = 'info';
    logger.setBindings({ pod: 'p-1' });
    write(f);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      level: 'info',
      time: '2026-01-02T03:04:05.006Z',
      service: 'helloworld-api',
      name: 'helloworld-api',
      pod: 'p-1',
      reqId: 'r',
      method: 'GET',
      route: 'unmatched',
      path: '/',
      status: 404,
      durationMs: 1.5,
      msg: 'request',
    });
  });

  it.each([
    ['redaction of every key (a wildcard path)', asCreateLogger, {}],
    ['a serializer of a field', {}, { serializers: { path: () => '[path]' } }],
    ['a mixin', { mixin: () => ({ extra: 1 }) }, {}],
    ['a log formatter', { formatters: { log: (o: object) => ({ ...o, seen: true }) } }, {}],
    ['another message key', { messageKey: 'message' }, {}],
    ['a nested key', { nestedKey: 'http' }, {}],
    ['a message prefix', {}, { msgPrefix: '[api] ' }],
  ])('come from logger.info itself for a logger with %s', (_name, settings, childOptions) => {
    const mine: string[] = [];
    const theirs: string[] = [];
    const logger = capture(settings, mine).child({}, childOptions);
    const reference = capture(settings, theirs).child({}, childOptions);
    const info = jest.spyOn(logger, 'info');
    const f = {
      reqId: 'r',
      method: 'PUT',
      route: '/hello/:username',
      path: '/hello/alice',
      status: 204,
      durationMs: 0.25,
      aborted: true,
    };
    requestLineWriter(logger)(f);
    reference.info(expected(f), 'request');
    expect(info).toHaveBeenCalledTimes(1);
    expect(mine).toEqual(theirs);
  });
});
