/**
 * What the API records of every request: a request id, the in-flight gauge, and when the response is
 * done (or abandoned) the duration histogram, the request counter and one log line. Plain node:http
 * types, so bench/api.ts puts the same observation on its bare baseline server.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '#common/logger.js';
import type { ApiMetrics } from './metrics.js';

/** A client's x-request-id is echoed when it looks like an id; otherwise a new one is made. */
const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** What is known of a request only once its response is done: the route template and the path. */
export interface RequestSummary {
  route: string;
  path: string;
}

/**
 * Starts observing one request and returns its id (for the caller to send in the response head).
 * `summary` is read when the response closes.
 */
export type ObserveRequest = (
  req: IncomingMessage,
  res: ServerResponse,
  summary: () => RequestSummary,
) => string;

export function requestObserver(
  metrics: Pick<ApiMetrics, 'requestStarted' | 'observeRequest'>,
  logger: Logger,
): ObserveRequest {
  // Request lines have a fixed shape (no bodies, no headers, no query strings), so they skip the
  // redaction pass that every other log line gets; it would otherwise be the costliest step per request.
  const accessLog = logger.child({}, { redact: [] });
  return (req, res, summary) => {
    const started = process.hrtime.bigint();
    metrics.requestStarted();
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const { route, path } = summary();
      // 499 (as nginx logs it): the client left before any answer was sent.
      const status = res.headersSent ? res.statusCode : 499;
      metrics.observeRequest(req.method ?? '', route, status, seconds);
      accessLog.info(
        {
          reqId: id,
          method: req.method,
          route,
          path: path.slice(0, 256),
          status,
          durationMs: Math.round(seconds * 1e6) / 1e3,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
    return id;
  };
}
