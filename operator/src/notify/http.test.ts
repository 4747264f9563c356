// postWebhook against real local HTTP servers: the address checks, the deadline, the response bound and
// no redirects.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_RESPONSE_BYTES, postWebhook } from './http.js';
import { blockedRanges, DEFAULT_BLOCKED_CIDRS } from './url.js';

let server: Server;
let base: string;
const seen: { url: string; body: string }[] = [];
let respond: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(204).end();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body });
      respond(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen.length = 0;
  respond = (_req, res) => res.writeHead(204).end();
});

const open = { timeoutMs: 2000, blocked: blockedRanges([]) };
const guarded = { timeoutMs: 2000, blocked: blockedRanges(DEFAULT_BLOCKED_CIDRS) };

describe('postWebhook', () => {
  it('POSTs the body as JSON and returns the status', async () => {
    const result = await postWebhook(new URL(`${base}/hook/token`), '{"a":1}', open);
    expect(result).toEqual({ status: 204 });
    expect(seen).toEqual([{ url: '/hook/token', body: '{"a":1}' }]);
  });

  it('refuses a blocked address, literal or behind a name, before connecting', async () => {
    const port = new URL(base).port;
    const literal = await postWebhook(new URL(`${base}/hook`), '{}', guarded);
    expect(literal).toEqual({ error: '127.0.0.1 is a blocked address (NOTIFY_BLOCKED_CIDRS)' });
    const named = await postWebhook(new URL(`http://localhost:${port}/hook/sekrit`), '{}', guarded);
    expect('error' in named && named.error).toMatch(/resolves to (127\.0\.0\.1|::1), a blocked address/);
    expect(JSON.stringify(named)).not.toContain('sekrit');
    expect(seen).toEqual([]);
  });

  it('does not follow a redirect', async () => {
    respond = (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest' }).end();
    expect(await postWebhook(new URL(`${base}/hook`), '{}', open)).toEqual({ status: 302 });
    expect(seen).toHaveLength(1);
  });

  it('gives up on a receiver that never answers, at the deadline', async () => {
    respond = () => undefined; // holds the request open
    const result = await postWebhook(new URL(`${base}/hook`), '{}', { ...open, timeoutMs: 200 });
    expect(result).toEqual({ error: 'no answer within 200 ms' });
  });

  it('reads no more than MAX_RESPONSE_BYTES of an endless answer', async () => {
    respond = (_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = (): void => {
        while (res.write(chunk));
        res.once('drain', pump);
      };
      pump();
    };
    const result = await postWebhook(new URL(`${base}/hook`), '{}', { ...open, timeoutMs: 10_000 });
    expect(result).toEqual({ status: 200 });
    expect(MAX_RESPONSE_BYTES).toBe(65_536);
  });

  it('names a connection failure without the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await postWebhook(new URL(`http://127.0.0.1:${String(port)}/hook/sekrit?t=1`), '{}', open);
    expect('error' in result && result.error).toMatch(/^ECONNREFUSED/);
    expect(JSON.stringify(result)).not.toMatch(/sekrit|t=1/);
  });
});
