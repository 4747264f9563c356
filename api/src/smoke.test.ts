// The smoke check's own logic against a scripted fetch; the real round trip is in server.int.test.ts.
import { smokeTestApi } from './smoke.js';

type Route = (method: string, path: string, body: string | undefined) => { status: number; body?: unknown };

function scriptedFetch(route: Route): typeof fetch {
  return (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const body = typeof init?.body === 'string' ? init.body : undefined;
    const answer = route(init?.method ?? 'GET', url.pathname, body);
    const text = answer.body === undefined ? null : JSON.stringify(answer.body);
    return Promise.resolve(new Response(text, { status: answer.status }));
  };
}

const NOW = () => new Date('2025-06-15T12:00:00Z');

/** A correct server in a few lines: remembers the PUT and greets accordingly (100 days ahead). */
const healthy: Route = (method, path, body) => {
  if (path === '/healthz' || path === '/readyz') return { status: 200, body: { status: 'ok' } };
  const user = path.split('/')[2] ?? '';
  if (method === 'PUT') {
    return (JSON.parse(body ?? '{}') as { dateOfBirth: string }).dateOfBirth === '2021-02-30'
      ? { status: 400, body: { error: 'dateOfBirth is not a real calendar date.' } }
      : { status: 204 };
  }
  return { status: 200, body: { message: `Hello, ${user}! Your birthday is in 100 day(s)` } };
};

describe('smokeTestApi', () => {
  it('passes every check against a correct server', async () => {
    const report = await smokeTestApi('http://api:8080/', scriptedFetch(healthy), { now: NOW });
    expect(report.ok).toBe(true);
    expect(report.url).toBe('http://api:8080');
    expect(report.checks).toEqual([
      { name: 'healthz', ok: true },
      { name: 'readyz', ok: true },
      { name: 'put', ok: true },
      { name: 'get', ok: true },
      { name: 'invalid-request', ok: true },
    ]);
  });

  it('fails on a wrong greeting and says what it got', async () => {
    const wrong: Route = (m, p, b) =>
      m === 'GET' && p.startsWith('/hello/') ? { status: 200, body: { message: 'Hi' } } : healthy(m, p, b);
    const report = await smokeTestApi('http://api:8080', scriptedFetch(wrong), { now: NOW });
    expect(report.ok).toBe(false);
    const get = report.checks.find((c) => c.name === 'get');
    expect(get?.ok).toBe(false);
    expect(get?.detail).toContain('"Hi"');
  });

  it('fails when readiness is 503 or invalid input is accepted', async () => {
    const broken: Route = (m, p, b) =>
      p === '/readyz'
        ? { status: 503, body: { error: 'down' } }
        : m === 'PUT'
          ? { status: 204 }
          : healthy(m, p, b);
    const report = await smokeTestApi('http://api:8080', scriptedFetch(broken), { now: NOW });
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['readyz', 'invalid-request']);
  });

  it('reports a network failure with its cause, and skips the GET when the PUT failed', async () => {
    const refused = (() =>
      Promise.reject(new TypeError('fetch failed', { cause: new Error('ECONNREFUSED') }))) as typeof fetch;
    const report = await smokeTestApi('http://api:8080', refused, { now: NOW });
    expect(report.ok).toBe(false);
    expect(report.checks.map((c) => c.name)).toEqual(['healthz', 'readyz', 'put', 'invalid-request']);
    expect(report.checks[0]?.detail).toBe('fetch failed: ECONNREFUSED');
  });
});
