/**
 * The operator's operations endpoint: /metrics (Prometheus text), /healthz (liveness: the process's
 * loops are running) and /readyz (readiness: a leader whose informers have synced, or a healthy standby
 * replica waiting for the lease — standbys are ready so a rollout of the operator itself can proceed).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '#common/logger.js';

export interface OpsServerOptions {
  port: number;
  /** Listen address; all interfaces by default so the kubelet can probe it. */
  host?: string;
  registry: Registry;
  logger: Logger;
  /** Liveness: false when a loop the process depends on has died. */
  healthy: () => boolean;
  /** Readiness: see the file comment. */
  ready: () => boolean;
}

export interface OpsServer {
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The readiness rule: healthy, and either not leading (a standby) or leading with every informer synced.
 */
export function operatorReadiness(deps: {
  healthy: () => boolean;
  isLeader: () => boolean;
  informersSynced: () => boolean;
}): () => boolean {
  return () => deps.healthy() && (!deps.isLeader() || deps.informersSynced());
}

export function createOpsServer(options: OpsServerOptions): OpsServer {
  const server: Server = createServer((req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      options.logger.error({ err: error, path: req.url }, 'ops endpoint failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  // Probes and scrapes are short; do not let a stuck client hold a socket.
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  return {
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error !== undefined) reject(error);
          else resolve();
        });
      }),
  };
}

async function handle(options: OpsServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(res, 405, 'method not allowed\n');
    return;
  }
  switch (path) {
    case '/metrics': {
      const body = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    case '/healthz':
      if (options.healthy()) reply(res, 200, 'ok\n');
      else reply(res, 503, 'unhealthy\n');
      return;
    case '/readyz':
      if (options.ready()) reply(res, 200, 'ok\n');
      else reply(res, 503, 'not ready\n');
      return;
    default:
      reply(res, 404, 'not found\n');
  }
}

function reply(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
