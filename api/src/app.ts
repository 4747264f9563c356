/**
 * The HTTP application: routes, validation and error mapping. Everything it touches is injected, so
 * tests drive it with supertest against a real store and a fixed clock.
 */
import { randomUUID } from 'node:crypto';
import { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type Express, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '#common/logger.js';
import {
  birthdayMessage,
  daysUntilBirthday,
  formatDate,
  parseDateOfBirth,
  parseIsoDate,
  utcDate,
} from './birthday.js';
import { readJsonBody } from './body.js';
import { BODY_LIMIT_BYTES, HttpError, errorHandler, notFound, sendJson } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import type { BirthdayStore } from './store.js';

export const USERNAME_PATTERN = /^[A-Za-z]{1,64}$/;

/**
 * What readiness depends on, and nothing else: the process itself. Redis being up is deliberately not
 * part of it: every pod shares one Redis, so an outage would make every pod unready at once and turn
 * the API's clear 503 answers into refused connections. `/healthz/redis` reports Redis instead.
 */
export interface Lifecycle {
  /** Flips to true on SIGTERM. */
  readonly shuttingDown: boolean;
  /** True until Redis first answered, or a few seconds passed without it (main.ts); absent: started. */
  readonly starting?: boolean;
}

export interface ChaosSettings {
  /** Share (0 to 1) of /hello requests answered with 500. */
  readonly errorRate: number;
  /** Latency added to every /hello request. */
  readonly latencyMs: number;
}

export interface AppDependencies {
  readonly store: BirthdayStore;
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
  readonly readiness: Lifecycle;
  readonly clock?: () => Date;
  readonly chaos?: ChaosSettings;
  readonly random?: () => number;
}

const HELLO_ROUTE = '/hello/:username';
const REQUEST_ID = /^[\w.:-]{1,128}$/;
/**
 * The plain form of nearly every API request: "/hello/" in lower case, then a valid username, nothing
 * else. Express's router would match it to HELLO_ROUTE with the same username (its matching ignores
 * case, accepts a trailing slash, percent-decodes and drops the query string; none of that applies
 * here), so the request middleware hands it to the same handler directly.
 */
const PLAIN_HELLO_PATH = /^\/hello\/([A-Za-z]{1,64})$/;

/** Where the request middleware leaves the request id for writeHead (below) to send. */
const REQUEST_ID_KEY = Symbol('requestId');

/**
 * Adds the "x-request-id" header to writeHead's arguments (statusCode, [statusMessage], [headers]):
 * to a copy of the headers object, before its own fields, so that a caller's own value still wins, as
 * it did when the middleware called setHeader(); raw header arrays get it through setHeader(). A request
 * id header set by other code is left as it is.
 */
function withRequestId(args: unknown[], id: string, res: Response): void {
  if (res.hasHeader('x-request-id')) return;
  const last = args.length > 1 ? args[args.length - 1] : undefined;
  if (last === undefined || typeof last === 'string') {
    args.push({ 'x-request-id': id });
  } else if (typeof last === 'object' && last !== null && !Array.isArray(last)) {
    args[args.length - 1] = { 'x-request-id': id, ...last };
  } else {
    res.setHeader('x-request-id', id);
  }
}

function methodNotAllowed(method: string, allow: string): HttpError {
  return new HttpError(405, `The ${method} method is not allowed here; allowed methods: ${allow}.`, {
    allow,
  });
}

function allowOnly(route: string, allowed: readonly string[]): RequestHandler {
  const allow = allowed.join(', ');
  return (req, res, next) => {
    res.locals.route = route;
    if (allowed.includes(req.method)) {
      next();
      return;
    }
    next(methodNotAllowed(req.method, allow));
  };
}

function checkUsername(value: unknown): string {
  if (typeof value !== 'string' || !USERNAME_PATTERN.test(value)) {
    throw new HttpError(400, 'The username must be 1 to 64 letters A-Z or a-z.');
  }
  return value;
}

function readDateOfBirth(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'The request body must be a JSON object like {"dateOfBirth": "YYYY-MM-DD"}.');
  }
  // Own property only: a "__proto__" key in the JSON must not count.
  if (!Object.hasOwn(body, 'dateOfBirth')) {
    throw new HttpError(400, 'The request body must contain "dateOfBirth" (YYYY-MM-DD).');
  }
  return (body as Record<string, unknown>).dateOfBirth;
}

export function createApp(deps: AppDependencies): Express {
  const { store, metrics, logger, readiness } = deps;
  const clock = deps.clock ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const chaos = deps.chaos ?? { errorRate: 0, latencyMs: 0 };

  // Request lines have a fixed shape (no bodies, no headers, no query strings), so they skip the
  // redaction pass that every other log line gets; it would otherwise be the costliest step per request.
  const accessLog = logger.child({}, { redact: [] });

  // ---- /hello/:username, every method: reached through the router, or directly for plain paths ----
  const injectChaos = async (): Promise<void> => {
    const fail = chaos.errorRate > 0 && random() < chaos.errorRate;
    if (chaos.latencyMs > 0) {
      metrics.chaosInjected('latency');
      await sleep(chaos.latencyMs);
    }
    if (fail) {
      metrics.chaosInjected('error');
      throw new HttpError(500, 'Injected failure (CHAOS_ERROR_RATE is set).');
    }
  };
  const chaosEnabled = chaos.errorRate > 0 || chaos.latencyMs > 0;

  const getHello = async (username: string, res: Response): Promise<void> => {
    const stored = await store.get(username);
    if (stored === null) throw new HttpError(404, `No date of birth is saved for ${username}.`);
    const dob = parseIsoDate(stored);
    if (!dob.ok) {
      logger.error({ username }, 'stored date of birth is not a valid date');
      throw new HttpError(500, 'The saved date of birth for this user cannot be read.');
    }
    const days = daysUntilBirthday(dob.date, utcDate(clock()));
    sendJson(res, 200, { message: birthdayMessage(username, days) }, { 'cache-control': 'no-store' });
  };

  const putHello = async (username: string, req: Request, res: Response): Promise<void> => {
    const body = await readJsonBody(req, BODY_LIMIT_BYTES);
    const dob = parseDateOfBirth(readDateOfBirth(body), utcDate(clock()));
    if (!dob.ok) throw new HttpError(400, dob.reason);
    await store.set(username, formatDate(dob.date));
    res.status(204).end();
  };

  // Method check first (405 without chaos), then chaos, then the username.
  const hello = async (method: string, username: unknown, req: Request, res: Response): Promise<void> => {
    if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT') {
      throw methodNotAllowed(method, 'GET, HEAD, PUT');
    }
    if (chaosEnabled) await injectChaos();
    const valid = checkUsername(username);
    await (method === 'PUT' ? putHello(valid, req, res) : getHello(valid, res));
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag'); // answers are per-user and cheap; hashing every body costs throughput
  app.set('query parser', false);

  // Node writes every response head through writeHead (end() without one calls it too), so what every
  // response head gets is added there, on the prototype Express gives this app's responses, rather than
  // in a per-request hook:
  // - the request id, added to the headers writeHead is given: a header set earlier with setHeader()
  //   sends Node down its slower path, where every other header of the response is set one by one;
  // - after SIGTERM, "connection: close", so that clients reconnect to other pods: responses to
  //   requests that were in flight when the signal came, and to later ones.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- applied to each response below
  const { writeHead } = ServerResponse.prototype;
  app.response.writeHead = function writeHeadWithRequestId(this: Response, ...args: unknown[]) {
    if (!this.headersSent) {
      if (readiness.shuttingDown) this.setHeader('connection', 'close');
      const id = (this as Partial<Record<typeof REQUEST_ID_KEY, string>>)[REQUEST_ID_KEY];
      if (id !== undefined) withRequestId(args, id, this);
    }
    return Reflect.apply(writeHead, this, args) as Response;
  } as Response['writeHead'];

  // Metrics and one log line per request, recorded when the response is done (or abandoned).
  app.use((req: Request, res: Response, next) => {
    const started = process.hrtime.bigint();
    metrics.requestStarted();
    const header = req.headers['x-request-id'];
    const id = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    (res as Response & Record<typeof REQUEST_ID_KEY, string>)[REQUEST_ID_KEY] = id; // sent by writeHead
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = typeof res.locals.route === 'string' ? res.locals.route : 'unmatched';
      // 499 (as nginx logs it): the client left before any answer was sent.
      const status = res.headersSent ? res.statusCode : 499;
      metrics.observeRequest(req.method, route, status, seconds);
      accessLog.info(
        {
          reqId: id,
          method: req.method,
          route,
          path: req.path.slice(0, 256),
          status,
          durationMs: Math.round(seconds * 1e6) / 1e3,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
    // Plain /hello/<username> requests skip the router's walk through the routes and the route's own
    // dispatch; everything else takes the route below, to the same handler (which judges the method).
    const plain = PLAIN_HELLO_PATH.exec(req.url);
    if (plain) {
      res.locals.route = HELLO_ROUTE;
      hello(req.method, plain[1], req, res).catch(next);
      return;
    }
    next();
  });

  // ---- Operations endpoints ----
  app
    .route('/healthz')
    .all(allowOnly('/healthz', ['GET', 'HEAD']))
    .get((_req, res) => {
      sendJson(res, 200, { status: 'ok' });
    });

  app
    .route('/readyz')
    .all(allowOnly('/readyz', ['GET', 'HEAD']))
    .get((_req, res) => {
      if (readiness.shuttingDown) {
        sendJson(res, 503, { error: 'The server is shutting down.' });
        return;
      }
      if (readiness.starting === true) {
        sendJson(res, 503, {
          error: 'The server is starting: it is connecting to storage.',
        });
        return;
      }
      sendJson(res, 200, { status: 'ready' });
    });

  // Diagnostics, not a probe: whether Redis answers PING within the command timeout.
  app
    .route('/healthz/redis')
    .all(allowOnly('/healthz/redis', ['GET', 'HEAD']))
    .get(async (_req, res) => {
      try {
        await store.ping();
      } catch {
        metrics.storageError('ping');
        sendJson(res, 503, { error: 'The storage service (Redis) did not answer PING in time.' });
        return;
      }
      sendJson(res, 200, { status: 'ok', redis: 'up' });
    });

  app
    .route('/metrics')
    .all(allowOnly('/metrics', ['GET', 'HEAD']))
    .get(async (_req, res) => {
      const body = await metrics.registry.metrics();
      res.type(metrics.registry.contentType).send(body);
    });

  // ---- The API ----
  app.route(HELLO_ROUTE).all((req, res, next) => {
    res.locals.route = HELLO_ROUTE;
    hello(req.method, req.params.username, req, res).catch(next);
  });

  // "/hello" and "/hello/" name no user: a validation failure rather than an unknown path.
  app.all('/hello{/}', (_req, res, next) => {
    res.locals.route = '/hello';
    next(new HttpError(400, 'The path must name a user: /hello/<username>.'));
  });

  app.use(notFound);
  app.use(errorHandler(logger, metrics));
  return app;
}
