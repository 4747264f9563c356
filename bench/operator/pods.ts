/**
 * Simulated pods that answer HTTP: kwok's pods have addresses that lead nowhere, so their status is
 * pointed at an address of this machine, where one local server answers for every pod. The API server's
 * pod proxy names the pod in X-Forwarded-Uri (`/api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/...`);
 * the pod's name starts with its HelloWorld's, and the HelloWorld's name starts with the behaviour its
 * pods play (`never-03` → never). One process, so a well-behaved pod is as cheap for the benchmark as a
 * hostile one.
 */
import http from 'node:http';
import { Readable, pipeline } from 'node:stream';
import type { KubeRest } from './kube.js';

export const HOSTILE_KINDS = ['never', 'huge', 'endless', 'drip', 'metrics'] as const;
export type PodKind = 'good' | (typeof HOSTILE_KINDS)[number];

const MiB = 1024 * 1024;
/** The bounds of the API's latency histogram (api/src/metrics.ts). */
const API_BOUNDS = [0.0005, 0.001, 0.002, 0.004, 0.006, 0.008, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const ROUTE = 'route="/hello/:username"';

/** The API's own /metrics for /hello: `requests` GETs, all fast. */
function apiMetrics(requests: number): string[] {
  return [
    `http_requests_total{method="GET",${ROUTE},status_code="200"} ${String(requests)}`,
    ...[...API_BOUNDS, '+Inf'].map(
      (le) => `http_request_duration_seconds_bucket{${ROUTE},le="${String(le)}"} ${String(requests)}`,
    ),
  ];
}

/** Under the 1 MiB cap, so that the operator reads and parses all of it: 5,000 bounds, 200 huge label sets. */
function hostileMetrics(requests: number): string {
  const bounds = Array.from(
    { length: 5000 },
    (_, i) => `http_request_duration_seconds_bucket{${ROUTE},le="${String(i / 1000 + 0.0001)}"} ${String(i)}`,
  );
  const labels = Array.from({ length: 20 }, (_, i) => `l${String(i)}="${'v'.repeat(100)}"`).join(',');
  const series = Array.from(
    { length: 200 },
    (_, i) => `http_requests_total{method="GET",${ROUTE},status_code="200",s="${String(i)}",${labels}} 0`,
  );
  return [...apiMetrics(requests), ...bounds, ...series].join('\n');
}

function* forever(chunk: Buffer): Generator<Buffer> {
  for (;;) yield chunk;
}

/** What the API answers to the default smoke checks, and its metrics. */
function answerWell(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
  scrapes: number,
): void {
  if (path === '/metrics') res.writeHead(200).end(apiMetrics(scrapes * 10).join('\n'));
  else if (req.method === 'PUT') res.writeHead(204).end();
  else if (path.startsWith('/hello/'))
    res.writeHead(200).end('{"message":"Hello, smokecheck! Happy birthday!"}');
  else res.writeHead(200).end('ok');
}

function answer(kind: PodKind, req: http.IncomingMessage, res: http.ServerResponse, scrapes: number): void {
  const path = (req.url ?? '/').replace(/\?.*$/, '');
  switch (kind) {
    case 'never':
      return; // accepts and stays silent
    case 'huge':
      res.writeHead(200, { 'content-length': String(5 * MiB) }).end(Buffer.alloc(5 * MiB, 'a'));
      return;
    case 'endless':
      res.writeHead(200);
      // pipeline ends the endless source when the operator hangs up.
      pipeline(Readable.from(forever(Buffer.alloc(64 * 1024, 'b'))), res, () => undefined);
      return;
    case 'drip': {
      res.writeHead(200);
      const timer = setInterval(() => res.write('.'), 1000);
      res.on('close', () => {
        clearInterval(timer);
      });
      return;
    }
    case 'metrics':
      if (path === '/metrics') res.writeHead(200).end(hostileMetrics(scrapes * 10));
      else answerWell(req, res, path, scrapes);
      return;
    case 'good':
      answerWell(req, res, path, scrapes);
  }
}

export interface PodServer {
  /** Requests answered (or held), and the most held open at once. */
  stats(): { requests: number; maxOpen: number };
  close(): Promise<void>;
}

/** One server on `address`:`port` answering for every pod pointed at it, by its HelloWorld's kind. */
export async function startPodServer(address: string, port: number): Promise<PodServer> {
  let requests = 0;
  let open = 0;
  let maxOpen = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    maxOpen = Math.max(maxOpen, ++open);
    res.on('close', () => (open -= 1));
    const pod = /\/pods\/([^/:]+)/.exec(String(req.headers['x-forwarded-uri'] ?? ''))?.[1] ?? '';
    const kind = pod.split('-')[0] as PodKind;
    answer([...HOSTILE_KINDS, 'good'].includes(kind) ? kind : 'good', req, res, requests);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return {
    stats: () => ({ requests, maxOpen }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Pod {
  metadata?: { name?: string; namespace?: string };
  status?: { phase?: string; podIP?: string };
}

/**
 * Points a running pod at `address` (kwok leaves a Running pod's status alone afterwards); before its
 * first smoke check, as the operator verifies a pod as soon as it is ready. A pod changed or deleted
 * meanwhile is left: its next change calls this again.
 */
export function pointPod(rest: KubeRest, obj: object, address: string): void {
  const pod = obj as Pod;
  if (pod.status?.phase !== 'Running' || pod.status.podIP === address) return;
  const path = `/api/v1/namespaces/${pod.metadata?.namespace ?? ''}/pods/${pod.metadata?.name ?? ''}/status`;
  const body = { ...pod, status: { ...pod.status, podIP: address, podIPs: [{ ip: address }] } };
  rest.request('PUT', path, { body }).catch(() => undefined);
}
