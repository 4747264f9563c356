/**
 * Post-deploy smoke test of a running API, for people and pipelines (the operator runs its own checks,
 * through the API server's pod proxy: operator/src/verification/smoke.ts). Run as a program it prints a
 * one-line JSON report and exits 0 or 1:
 *
 *   node dist/api/smoke.js --url http://helloworld-api:8080
 */
import { randomInt } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { birthdayInYear, birthdayMessage, daysUntilBirthday, formatDate, utcDate } from './birthday.js';

export interface SmokeCheckOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface SmokeReport {
  readonly ok: boolean;
  readonly url: string;
  readonly durationMs: number;
  readonly checks: readonly SmokeCheckOutcome[];
}

export interface SmokeOptions {
  /** Per-request timeout. */
  readonly timeoutMs?: number;
  /** Source of "now", to compute the expected greeting. */
  readonly now?: () => Date;
}

type Fetch = typeof fetch;
const DAY_MS = 86_400_000;

/** A fresh user per run, so concurrent runs and real users never collide. */
function throwawayUsername(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let name = 'smoke';
  for (let i = 0; i < 12; i++) name += letters[randomInt(letters.length)] ?? 'x';
  return name;
}

/** fetch's own message is "fetch failed"; the useful part (ECONNREFUSED, timeout) is in the cause. */
function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return err.message + cause;
}

export async function smokeTestApi(
  baseUrl: string,
  fetchImpl: Fetch = fetch,
  options: SmokeOptions = {},
): Promise<SmokeReport> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? (() => new Date());
  const base = baseUrl.replace(/\/+$/, '');
  const checks: SmokeCheckOutcome[] = [];

  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> => {
    const response = await fetchImpl(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = text.slice(0, 200);
    }
    return { status: response.status, json };
  };

  const check = async (name: string, run: () => Promise<string | undefined>): Promise<boolean> => {
    try {
      const problem = await run();
      checks.push(problem === undefined ? { name, ok: true } : { name, ok: false, detail: problem });
      return problem === undefined;
    } catch (err) {
      checks.push({ name, ok: false, detail: describeError(err) });
      return false;
    }
  };
  const expectStatus = (got: { status: number; json: unknown }, want: number): string | undefined =>
    got.status === want ? undefined : `expected ${want}, got ${got.status} ${JSON.stringify(got.json)}`;

  await check('healthz', async () => expectStatus(await call('GET', '/healthz'), 200));
  await check('readyz', async () => expectStatus(await call('GET', '/readyz'), 200));

  // A birthday about 100 days away in year 2000; the server's "today" may differ from ours by a day
  // around midnight UTC, so the greeting for yesterday, today or tomorrow is accepted.
  const user = throwawayUsername();
  const t = now().getTime();
  const target = utcDate(new Date(t + 100 * DAY_MS));
  const dob = birthdayInYear({ year: 2000, month: target.month, day: target.day }, 2000);
  const expected = [-1, 0, 1].map((offset) =>
    birthdayMessage(user, daysUntilBirthday(dob, utcDate(new Date(t + offset * DAY_MS)))),
  );
  const saved = await check('put', async () =>
    expectStatus(await call('PUT', `/hello/${user}`, { dateOfBirth: formatDate(dob) }), 204),
  );
  if (saved) {
    await check('get', async () => {
      const got = await call('GET', `/hello/${user}`);
      const message = (got.json as { message?: unknown } | undefined)?.message;
      if (got.status !== 200) return expectStatus(got, 200);
      return typeof message === 'string' && expected.includes(message)
        ? undefined
        : `expected message ${JSON.stringify(expected[1])}, got ${JSON.stringify(got.json)}`;
    });
  }
  await check('invalid-request', async () => {
    const got = await call('PUT', `/hello/${user}`, { dateOfBirth: '2021-02-30' });
    const error = (got.json as { error?: unknown } | undefined)?.error;
    if (got.status !== 400) return expectStatus(got, 400);
    return typeof error === 'string'
      ? undefined
      : `expected a JSON error body, got ${JSON.stringify(got.json)}`;
  });

  return {
    ok: checks.every((c) => c.ok) && checks.length === 5,
    url: base,
    durationMs: Date.now() - started,
    checks,
  };
}

function parseArgs(argv: readonly string[]): { url: string; timeoutMs: number } | string {
  let url: string | undefined;
  let timeoutMs = 5000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--url' && value !== undefined) {
      url = value;
      i++;
    } else if (arg?.startsWith('--url=')) url = arg.slice('--url='.length);
    else if (arg === '--timeout-ms' && value !== undefined && /^\d+$/.test(value)) {
      timeoutMs = Number(value);
      i++;
    } else return `unknown argument ${JSON.stringify(arg)}`;
  }
  if (url === undefined) return 'missing --url <base URL>';
  try {
    new URL(url);
  } catch {
    return `not a URL: ${JSON.stringify(url)}`;
  }
  return { url, timeoutMs };
}

export async function smokeCli(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: `${args}; usage: smoke.js --url <base URL> [--timeout-ms N]` })}\n`,
    );
    return 1;
  }
  const report = await smokeTestApi(args.url, fetch, { timeoutMs: args.timeoutMs });
  process.stdout.write(`${JSON.stringify(report)}\n`);
  return report.ok ? 0 : 1;
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await smokeCli(process.argv.slice(2));
}
