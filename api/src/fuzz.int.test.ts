// Property-based tests over usernames, dates and bodies: whatever arrives, the answer is never a 5xx,
// every error is a JSON sentence, and valid input round-trips through Redis to the right greeting.
import type { Server } from 'node:http';
import { jest } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { createLogger } from '#common/logger.js';
import { startRedis, type RedisHandle } from '../../test/support/redis.js';
import { createApp } from './app.js';
import { birthdayMessage, daysUntilBirthday, formatDate, parseDateOfBirth, utcDate } from './birthday.js';
import { redisTargetFromUrl } from './redis-config.js';
import { createApiMetrics } from './metrics.js';
import { createRedisStore, type BirthdayStore } from './store.js';

/** Exactly { "error": "<non-empty sentence>" }. */
function expectErrorShape(body: unknown): void {
  expect(typeof body === 'object' && body !== null ? Object.keys(body) : body).toEqual(['error']);
  expect(typeof (body as { error: unknown }).error).toBe('string');
}

jest.setTimeout(60_000);
const NOW = new Date('2024-02-29T08:00:00Z');
const TODAY = utcDate(NOW);
let redis: RedisHandle;
let store: BirthdayStore;
let server: Server;
let base: string;

beforeAll(async () => {
  redis = await startRedis();
  const logger = createLogger('test', 'silent');
  store = createRedisStore({ target: redisTargetFromUrl(redis.url), commandTimeoutMs: 1000, logger });
  const app = createApp({
    store,
    metrics: createApiMetrics(),
    logger,
    readiness: { shuttingDown: false },
    clock: () => NOW,
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (let i = 0; ; i++) {
    try {
      await store.ping();
      break;
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await store.close();
  await redis.stop();
});

interface Answer {
  status: number;
  text: string;
  type: string | null;
}

async function send(
  method: string,
  path: string,
  body?: string | Uint8Array,
  headers: Record<string, string> = {},
) {
  const res = await fetch(base + path, { method, body: body ?? null, headers });
  return {
    status: res.status,
    text: await res.text(),
    type: res.headers.get('content-type'),
  } satisfies Answer;
}

/** The invariant of every answer: no 5xx; a 4xx is a JSON object with one sentence under "error". */
function expectWellFormed(answer: Answer, method: string): void {
  expect(answer.status).toBeLessThan(500);
  if (answer.status >= 400 && method !== 'HEAD') {
    expect(answer.type).toMatch(/^application\/json/);
    const parsed = JSON.parse(answer.text) as unknown;
    expectErrorShape(parsed);
  }
}

const letters = fc.stringMatching(/^[A-Za-z]{1,64}$/);
const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);
const pathSegment = fc.oneof(
  letters,
  anyText.map(encodeURIComponent),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '%',
          '%2',
          '%2F',
          '%00',
          '%E0%A4%A',
          '%41',
          '%C3%A9',
          '.',
          '..',
          '~',
          ';',
          '%25',
          '+',
          '*',
        ),
        fc.stringMatching(/^[A-Za-z0-9._~-]{0,8}$/),
      ),
      { maxLength: 8 },
    )
    .map((parts) => parts.join('')),
);
const dateLike = fc.oneof(
  fc
    .date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('2100-12-31T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString().slice(0, 10)),
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
    )
    .map(
      ([y, m, d]) =>
        `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
    ),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  anyText,
);
const dobValue = fc.oneof(dateLike, fc.jsonValue({ maxDepth: 2 }), fc.constant(null), fc.integer());
const bodyObject = fc.oneof(
  dobValue.map((dateOfBirth) => ({ dateOfBirth })),
  fc.record({ dateOfBirth: dobValue, extra: fc.jsonValue({ maxDepth: 2 }) }),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc
    .constantFrom('DateOfBirth', 'dateofbirth', 'DATEOFBIRTH', 'date_of_birth')
    .map((k) => ({ [k]: '2000-01-01' })),
);
const rawBody = fc.oneof(
  bodyObject.map((b) => JSON.stringify(b)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  bodyObject.map((b) => JSON.stringify(b).slice(0, -1)), // truncated JSON
  anyText,
  fc.uint8Array({ maxLength: 64 }),
);
const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '*/*',
  ';;;',
);
const method = fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');

describe('whatever the request', () => {
  it('never answers 5xx and every error is a JSON sentence', async () => {
    await fc.assert(
      fc.asyncProperty(method, pathSegment, rawBody, contentType, async (m, segment, body, type) => {
        const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
        const withBody = m !== 'GET' && m !== 'HEAD';
        expectWellFormed(await send(m, `/hello/${segment}`, withBody ? body : undefined, headers), m);
      }),
      { numRuns: 400 },
    );
  });

  it('accepts exactly the valid dates and greets with the right number of days', async () => {
    await fc.assert(
      fc.asyncProperty(letters, dateLike, async (user, date) => {
        const put = await send('PUT', `/hello/${user}`, JSON.stringify({ dateOfBirth: date }));
        expectWellFormed(put, 'PUT');
        const expected = parseDateOfBirth(date, TODAY);
        if (!expected.ok) {
          expect(put.status).toBe(400);
          return;
        }
        expect(put.status).toBe(204);
        const get = await send('GET', `/hello/${user}`);
        expect(get.status).toBe(200);
        const days = daysUntilBirthday(expected.date, TODAY);
        expect(JSON.parse(get.text)).toEqual({ message: birthdayMessage(user, days) });
        expect(formatDate(expected.date)).toBe(date);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every username outside ^[A-Za-z]{1,64}$ with 400 on GET and PUT', async () => {
    const notAUsername = anyText.filter(
      (s) => !/^[A-Za-z]{1,64}$/.test(s) && s !== '' && s !== '.' && s !== '..',
    );
    await fc.assert(
      fc.asyncProperty(notAUsername, async (name) => {
        const segment = encodeURIComponent(name);
        for (const m of ['GET', 'PUT']) {
          const answer = await send(
            m,
            `/hello/${segment}`,
            m === 'PUT' ? '{"dateOfBirth":"2000-01-01"}' : undefined,
          );
          expectWellFormed(answer, m);
          expect(answer.status).toBe(400);
        }
      }),
      { numRuns: 300 },
    );
  });
});
