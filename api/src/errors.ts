/**
 * One error type and one error middleware: whatever goes wrong, the client gets a JSON body
 * { "error": "<sentence>" } with the right status, and never a stack trace.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from '#common/logger.js';
import type { ApiMetrics } from './metrics.js';
import { StorageError } from './store.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * Writes a JSON answer straight to Node's response: the hot path skips res.json's content-type
 * negotiation and freshness checks, which this API never needs. HEAD answers get the headers only.
 */
export function sendJson(
  res: Response,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Errors from Express's router (e.g. undecodable path parameters) carry a 4xx `status`. */
function toHttpError(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof StorageError && err.full) {
    // 507, not 503: Redis is up and answering, it refuses new data at its memory limit. Waiting will not
    // help, so no Retry-After; what is already saved stays readable.
    return new HttpError(
      507,
      'The storage is full, so this date of birth was not saved; dates saved earlier are kept and can still be read.',
    );
  }
  if (err instanceof StorageError) {
    return new HttpError(503, 'The storage service is unavailable; please try again shortly.', {
      'retry-after': '1',
    });
  }
  if (typeof err !== 'object' || err === null) return undefined;
  const { status } = err as { status?: unknown };
  if (err instanceof URIError) return new HttpError(400, 'The request path is not valid percent-encoding.');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(400, 'The request could not be read.');
  }
  return undefined;
}

export function errorHandler(logger: Logger, metrics: ApiMetrics): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    let httpError = toHttpError(err);
    if (err instanceof StorageError) {
      metrics.storageError(err.operation);
      if (err.full)
        logger.error({ operation: err.operation }, 'storage full: Redis refuses writes at maxmemory');
      else logger.warn({ operation: err.operation, err: { message: err.message } }, 'storage failure');
    }
    if (!httpError) {
      logger.error({ err, method: req.method, path: req.path }, 'unhandled error');
      httpError = new HttpError(500, 'The server hit an unexpected error.');
    }
    sendJson(res, httpError.status, { error: httpError.message }, httpError.headers);
  };
}

export const notFound: RequestHandler = (_req, _res, next) => {
  next(new HttpError(404, 'There is nothing at this path.'));
};
