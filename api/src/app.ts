/**
 * The HTTP application: the request observer, then the routes (routes.ts), then the error mapping.
 * Everything it touches is injected, so tests drive it with supertest against a real store and a fixed
 * clock.
 */
import { ServerResponse } from 'node:http';
import express, { type Express, type Request, type Response } from 'express';
import type { Logger } from '#common/logger.js';
import { errorHandler, notFound } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import { requestObserver } from './request-observer.js';
import { HELLO_ROUTE, helloHandler, mountRoutes, type ChaosSettings, type Lifecycle } from './routes.js';
import type { BirthdayStore } from './store.js';

export interface AppDependencies {
  readonly store: BirthdayStore;
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
  readonly readiness: Lifecycle;
  readonly clock?: () => Date;
  readonly chaos?: ChaosSettings;
  readonly random?: () => number;
}

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

export function createApp(deps: AppDependencies): Express {
  const { metrics, logger, readiness } = deps;
  metrics.redisMode(deps.store.mode);
  const routeDeps = {
    ...deps,
    clock: deps.clock ?? (() => new Date()),
    random: deps.random ?? Math.random,
    chaos: deps.chaos ?? { errorRate: 0, latencyMs: 0 },
  };
  const hello = helloHandler(routeDeps);
  const observe = requestObserver(metrics, logger);

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

  // Metrics and one log line per request (request-observer.ts), recorded when the response is done.
  app.use((req: Request, res: Response, next) => {
    const summary = () => ({
      route: typeof res.locals.route === 'string' ? res.locals.route : 'unmatched',
      path: req.path,
    });
    const id = observe(req, res, summary);
    (res as Response & Record<typeof REQUEST_ID_KEY, string>)[REQUEST_ID_KEY] = id; // sent by writeHead
    // Plain /hello/<username> requests skip the router's walk through the routes and the route's own
    // dispatch; everything else takes the route, to the same handler (which judges the method).
    const plain = PLAIN_HELLO_PATH.exec(req.url);
    if (plain) {
      res.locals.route = HELLO_ROUTE;
      hello(req.method, plain[1], req, res).catch(next);
      return;
    }
    next();
  });

  mountRoutes(app, routeDeps, hello);
  app.use(notFound);
  app.use(errorHandler(logger, metrics));
  return app;
}
