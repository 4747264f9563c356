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
