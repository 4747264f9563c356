import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'dateOfBirth',
  '*.dateOfBirth',
  'req.headers.authorization',
  'req.headers.cookie',
  'redisUrl',
  '*.redisUrl',
];

/** Where a batch of lines goes: anything with a synchronous write. */
export interface LineSink {
  write(chunk: string): unknown;
}

/**
 * Collects the lines logged during one turn of the event loop and writes them to `sink` in one write
 * when the turn ends (setImmediate), or at once when `maxBytes` have piled up. A busy server makes one
 * write per turn instead of one per line; a quiet one writes each line as soon as its turn is over, so
 * no line waits for traffic. Lines are never reordered, and flushSync() writes what is pending, as the
 * process 'exit' hook does.
 */
export class BatchedDestination implements DestinationStream {
  readonly #sink: LineSink;
  readonly #maxBytes: number;
  #pending = '';
  #scheduled = false;

  constructor(sink: LineSink, maxBytes = 64 * 1024) {
    this.#sink = sink;
    this.#maxBytes = maxBytes;
  }

  write(line: string): void {
    this.#pending += line;
    if (this.#pending.length >= this.#maxBytes) this.flushSync();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushTurn);
    }
  }

  flushSync(): void {
    if (this.#pending === '') return;
    const chunk = this.#pending;
    this.#pending = '';
    this.#sink.write(chunk);
  }

  /** pino's logger.flush(cb) calls this. */
  flush(callback?: (err?: Error) => void): void {
    this.flushSync();
    callback?.();
  }

  readonly #flushTurn = (): void => {
    this.#scheduled = false;
    this.flushSync();
  };
}

let batchedStdout: BatchedDestination | undefined;

/**
 * The process's one batched stdout. Writes go through a synchronous sonic-boom (what pino uses by
 * default), which retries a full pipe (EAGAIN) rather than dropping lines; the exit hook flushes
 * synchronously, so process.exit() after a log call, on shutdown or on a fatal error, loses nothing.
 */
function stdoutBatched(): BatchedDestination {
  if (batchedStdout) return batchedStdout;
  const destination = new BatchedDestination(pino.destination({ dest: 1, sync: true }));
  process.once('exit', () => {
    destination.flushSync();
  });
  batchedStdout = destination;
  return destination;
}

// pino's isoTime builds a Date and its ISO string for every line; lines logged in the same millisecond
// (a busy server logs several) share one. The output is the same.
let lastMillis = Number.NaN;
let lastTime = '';
export function isoTime(): string {
  const now = Date.now();
  if (now !== lastMillis) {
    lastMillis = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

export interface LoggerOptions {
  /**
   * Batch the lines of each event-loop turn into one write to stdout (see BatchedDestination). Off,
   * every line is written to stdout as it is logged. Use one setting per process, so that lines from
   * different loggers keep their order.
   */
  readonly buffered?: boolean;
}

/** A structured JSON logger; the one place both programs create loggers. */
export function createLogger(
  name: string,
  level: LevelWithSilent = 'info',
  options: LoggerOptions = {},
): Logger {
  const settings = {
    name,
    level,
    base: { service: name },
    timestamp: isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return options.buffered ? pino(settings, stdoutBatched()) : pino(settings);
}

/** The fields of the one line the API writes per request, in the order they are written. */
export interface RequestLineFields {
  readonly reqId: string;
  readonly method: string;
  readonly route: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  /** True when the response was not finished (the client left first); written only when true. */
  readonly aborted: boolean;
}

/**
 * Writes request lines through `logger`: the line logger.info({ ...fields }, message) writes (the
 * "aborted" field only when true), with its level check, level label, time, bindings and destination,
 * but the JSON of the fields put together here. Their names and order are fixed, so pino's walk over
 * an arbitrary object (escaping each key, looking up serializers and redaction for each) has nothing
 * to do. Strings are escaped by JSON.stringify, as pino does from Node 25 on (before, pino leaves lone
 * surrogates unescaped, which no request line can hold: Node reads the request line one byte to a
 * character). A logger with options that change lines (serializers or redaction of these fields, a
 * mixin, hooks, a log formatter, a nested or different message key, a message prefix, a destination
 * that wants metadata) gets its lines from logger.info itself.
 */
export function requestLineWriter(logger: Logger, message = 'request'): (fields: RequestLineFields) => void {
  const { symbols } = pino;
  const internals = logger as unknown as Record<symbol, unknown>;
  const serializers = (internals[symbols.serializersSym] ?? {}) as Record<string, unknown>;
  const stringifiers = (internals[symbols.stringifiersSym] ?? {}) as Record<string | symbol, unknown>;
  const hooks = (internals[symbols.hooksSym] ?? {}) as Record<string, unknown>;
  const formatters = (internals[symbols.formattersSym] ?? {}) as Record<string, unknown>;
  const stream = internals[symbols.streamSym] as DestinationStream & Record<symbol, unknown>;
  const time = internals[symbols.timeSym];
  const levelPrefix = (internals[symbols.lsCacheSym] as Record<number, string> | undefined)?.[30];
  const end = internals[symbols.endSym];
  const { msgPrefixSym } = symbols as unknown as Record<string, symbol | undefined>; // not in pino's typings
  const keys = ['reqId', 'method', 'route', 'path', 'status', 'durationMs', 'aborted', 'msg'];
  const plain =
    keys.every((key) => serializers[key] === undefined && stringifiers[key] === undefined) &&
    stringifiers[symbols.wildcardFirstSym] === undefined &&
    internals[symbols.mixinSym] === undefined &&
    hooks.logMethod === undefined &&
    hooks.streamWrite === undefined &&
    formatters.log === undefined &&
    internals[symbols.nestedKeySym] === null &&
    internals[symbols.messageKeySym] === 'msg' &&
    (msgPrefixSym === undefined || internals[msgPrefixSym] === undefined) &&
    stream[symbols.needsMetadataGsym] !== true &&
    typeof time === 'function' &&
    typeof levelPrefix === 'string' &&
    logger.levels.values.info === 30 &&
    typeof internals[symbols.chindingsSym] === 'string' &&
    typeof end === 'string';
  if (!plain) {
    return ({ aborted, ...fields }) => {
      logger.info(aborted ? { ...fields, aborted } : fields, message);
    };
  }
  const timestamp = time as () => string;
  const tail = `,"msg":${JSON.stringify(message)}${end}`;
  const number = (value: number): string => (Number.isFinite(value) ? String(value) : 'null');
  return (f) => {
    if (!logger.isLevelEnabled('info')) return;
    stream.write(
      levelPrefix +
        timestamp() +
        (internals[symbols.chindingsSym] as string) + // read per line: setBindings() changes them
        `,"reqId":${JSON.stringify(f.reqId)},"method":${JSON.stringify(f.method)}` +
        `,"route":${JSON.stringify(f.route)},"path":${JSON.stringify(f.path)}` +
        `,"status":${number(f.status)},"durationMs":${number(f.durationMs)}` +
        (f.aborted ? ',"aborted":true' : '') +
        tail,
    );
  };
}
