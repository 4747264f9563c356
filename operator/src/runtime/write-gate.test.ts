// The write gate in front of the controller's API client, and the last-moment check in rest.ts, against a
// local HTTP server: a refused write never reaches the server; reads always pass.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { staticConnection } from './connection.js';
import { HttpKubeRest } from './rest.js';
import { gateWrites, LeadershipLostError, type WriteGate } from './write-gate.js';

/** A gate a test opens and closes by hand. */
function manualGate(): WriteGate & { open: boolean; checks: number; close(): void } {
  const controller = new AbortController();
  const gate = {
    open: true,
    checks: 0,
    signal: controller.signal,
    check() {
      gate.checks++;
      if (!gate.open) throw new LeadershipLostError('closed');
    },
    close() {
      gate.open = false;
      controller.abort(new LeadershipLostError('closed'));
    },
  };
  return gate;
}

describe('gateWrites over HttpKubeRest', () => {
  let server: http.Server;
  let received: string[];
  /** While set, the server holds requests without answering. */
  let holding = false;
  let rest: HttpKubeRest;

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      received.push(`${request.method ?? ''} ${request.url ?? ''}`);
      if (holding) return; // answered never; the client aborts
      response.setHeader('Content-Type', 'application/json');
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    rest = new HttpKubeRest(staticConnection({ server: `http://127.0.0.1:${String(port)}`, source: 'test' }));
  });

  beforeEach(() => {
    received = [];
    holding = false;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('lets reads and writes through while open, checking each write when asked and when sent', async () => {
    const gate = manualGate();
    const gated = gateWrites(rest, gate);
    await gated.request('GET', '/api/v1/pods');
    await gated.request('PATCH', '/api/v1/namespaces/a/pods/p', { body: {} });
    expect(received).toEqual(['GET /api/v1/pods', 'PATCH /api/v1/namespaces/a/pods/p']);
    expect(gate.checks).toBe(2);
  });

  it('refuses every write verb once closed, without a request; reads still pass', async () => {
    const gate = manualGate();
    const gated = gateWrites(rest, gate);
    gate.close();
    for (const verb of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      await expect(gated.request(verb, '/api/v1/namespaces/a/events', { body: {} })).rejects.toThrow(
        LeadershipLostError,
      );
    }
    await gated.request('GET', '/api/v1/namespaces/a/events');
    expect(received).toEqual(['GET /api/v1/namespaces/a/events']);
  });

  it('checks again when the bytes leave: a gate closed meanwhile stops the request', async () => {
    const gate = manualGate();
    const gated = gateWrites(rest, gate);
    // Time runs out between the first check and the send (the process froze while authenticating),
    // and no timer has aborted the signal yet.
    const pending = gated.request('POST', '/api/v1/namespaces/a/events', { body: {} });
    gate.open = false;
    await expect(pending).rejects.toThrow(LeadershipLostError);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(received).toEqual([]);
  });

  it('aborts a write in flight when the gate closes', async () => {
    const gate = manualGate();
    const gated = gateWrites(rest, gate);
    holding = true;
    const pending = gated.request('PUT', '/api/v1/namespaces/a/configmaps/c', { body: {} });
    await waitUntil(() => received.length === 1);
    gate.close();
    await expect(pending).rejects.toThrow();
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error('condition never held');
}
