// A pass-through in front of the real API server that notes every request one process makes: the
// operator under test gets a kubeconfig pointing here, so a test can tell which replica wrote what and
// when. Requests and answers (watches included) are forwarded as they are; nothing is changed.
import { rmSync, writeFileSync } from 'node:fs';
import http, { type Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { connectionFromKubeConfig } from '../../operator/src/runtime/connection.js';
import { apiUrl, transportOf } from '../../operator/src/runtime/rest.js';

export interface RecordedRequest {
  /** Position in arrival order, for "after this point" questions. */
  seq: number;
  method: string;
  path: string;
}

export interface ApiRecorder {
  /** A kubeconfig file (plain HTTP to the recorder, no credentials) for the recorded process. */
  readonly kubeconfig: string;
  readonly requests: RecordedRequest[];
  /** The seq the next request will get. */
  mark(): number;
  /** Writes (every method but GET) received at or after `from`, Lease requests left out. */
  writesSince(from: number): RecordedRequest[];
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'host', 'transfer-encoding', 'authorization']);

export async function startApiRecorder(kc: KubeConfig, name: string): Promise<ApiRecorder> {
  // Its own connection, so closing the recorder closes its kept-alive sockets and nothing else.
  const connection = connectionFromKubeConfig(kc);
  let upstreamAgent: Agent | undefined;
  const requests: RecordedRequest[] = [];
  let seq = 0;
  const server = http.createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    requests.push({ seq: seq++, method: incoming.method ?? '', path });
    void (async () => {
      const { agent, headers } = await connection.authenticate();
      upstreamAgent = agent;
      const forwarded: Record<string, string | string[]> = { ...headers };
      for (const [key, value] of Object.entries(incoming.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(key)) forwarded[key] = value;
      }
      const url = apiUrl(connection, path);
      const upstream = transportOf(url).request(
        url,
        { method: incoming.method, agent, headers: forwarded },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      upstream.on('error', () => outgoing.destroy());
      outgoing.on('close', () => upstream.destroy());
      incoming.pipe(upstream);
    })().catch(() => outgoing.destroy());
  });
  // Like the API server, keep idle connections open for long: a frozen client's sockets must still be
  // there when it resumes, or its first requests fail for a reason of the recorder's own.
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const kubeconfig = join(tmpdir(), `${name}-${String(port)}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'recorder', cluster: { server: `http://127.0.0.1:${String(port)}` } }],
      users: [{ name: 'recorder', user: {} }],
      contexts: [{ name: 'recorder', context: { cluster: 'recorder', user: 'recorder' } }],
      'current-context': 'recorder',
    }),
  );
  return {
    kubeconfig,
    requests,
    mark: () => seq,
    writesSince: (from) =>
      requests.filter((r) => r.seq >= from && r.method !== 'GET' && !r.path.includes('/leases')),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      upstreamAgent?.destroy();
      rmSync(kubeconfig, { force: true });
    },
  };
}
