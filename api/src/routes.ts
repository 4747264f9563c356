/**
 * The routes of the API: /hello/:username (the birthday API, with the chaos a test may inject) and the
 * operations endpoints. createApp (app.ts) mounts them behind the request observer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Express, Request, RequestHandler, Response } from 'express';
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
import { BODY_LIMIT_BYTES, HttpError, sendJson } from './errors.js';
import type { ApiMetrics } from './metrics.js';
import type { BirthdayStore } from './store.js';

export const USERNAME_PATTERN = /^[A-Za-z]{1,64}$/;
export const HELLO_ROUTE = '/hello/:username';

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

export interface RouteDependencies {
  readonly store: BirthdayStore;
  readonly metrics: ApiMetrics;
  readonly logger: Logger;
  readonly readiness: Lifecycle;
  readonly clock: () => Date;
  readonly chaos: ChaosSettings;
  readonly random: () => number;
}

/** Answers /hello/<username> for any method (it judges the method itself). */
export type HelloHandler = (method: string, username: unknown, req: Request, res: Response) => Promise<void>;

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

/**
 * The handler of /hello/:username, every method: reached through the router, or directly for plain paths
 * (app.ts).
 */
export function helloHandler(deps: RouteDependencies): HelloHandler {
  const { store, metrics, logger, clock, random, chaos } = deps;
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

  return hello;
}

/** The operations endpoints, then the API's routes; what matches none falls through to notFound. */
export function mountRoutes(app: Express, deps: RouteDependencies, hello: HelloHandler): void {
  const { store, metrics, readiness } = deps;
  const { mode } = store;
  const modeText = `${mode.topology}${mode.tls ? ', TLS' : ''}`;

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
          error: `The server is starting: it is connecting to storage (Redis ${modeText}).`,
        });
        return;
      }
      sendJson(res, 200, { status: 'ready', redisMode: mode });
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
        sendJson(res, 503, { error: `The storage service (Redis ${modeText}) did not answer PING in time.` });
        return;
      }
      sendJson(res, 200, { status: 'ok', redis: 'up', redisMode: mode });
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
}
