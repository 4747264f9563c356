/**
 * HTTP to one pod of the new revision. The operator goes through the API server's pod proxy, so checks work
 * wherever it runs; tests, and an operator that can reach pod IPs, talk to the pod directly.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Connection } from '../runtime/connection.js';
import { toConnection } from '../runtime/rest.js';
import type { PodRef } from './types.js';

export interface PodRequest {
  method: string;
  /** Path and query on the pod, starting with "/". */
  path: string;
  /** Sent as JSON: the API speaks nothing else. */
  body?: string;
  timeoutMs: number;
}

export interface PodResponse {
  status: number;
  body: string;
  /**
   * Set when the API server answered in the pod's place (it could not reach the pod, or refused the
   * proxy request): its own error message. The status and body are the API server's.
   */
  proxyError?: string;
}

export interface PodHttp {
  /** Resolves with any HTTP answer, 5xx included; rejects with PodHttpError when none came. */
  request(pod: PodRef, req: PodRequest): Promise<PodResponse>;
}

/** No HTTP answer at all: a timeout, a refused connection, a TLS failure. */
export class PodHttpError extends Error {
  /** What went wrong, without the request and pod the message starts with. */
  readonly reason: string;

  constructor(context: string, reason: string, options?: ErrorOptions) {
    super(`${context}: ${reason}`, options);
    this.name = 'PodHttpError';
    this.reason = reason;
  }
}

export function podName(pod: PodRef): string {
  return `${pod.namespace}/${pod.name}`;
}

function describeFailure(error: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `no answer within ${timeoutMs} ms`;
  // fetch wraps the socket error ("fetch failed"); its cause says what actually happened.
  const cause: unknown = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Talks to the pod itself; `baseUrl` maps a pod to e.g. `http://10.1.2.3:8080`. */
export function directHttp(baseUrl: (pod: PodRef) => string): PodHttp {
  return {
    async request(pod, req) {
      const url = `${baseUrl(pod).replace(/\/$/, '')}${req.path}`;
      const signal = AbortSignal.timeout(req.timeoutMs);
      try {
        const response = await fetch(url, {
          method: req.method,
          signal,
          ...(req.body !== undefined && { body: req.body, headers: { 'content-type': 'application/json' } }),
        });
        return { status: response.status, body: await response.text() };
      } catch (error) {
        const why = describeFailure(error, signal, req.timeoutMs);
        throw new PodHttpError(`${req.method} ${req.path} on pod ${podName(pod)}`, why, { cause: error });
      }
    },
  };
}

/** The URL of a path on a pod through the API server's proxy subresource. */
export function podProxyUrl(server: string, pod: PodRef, path: string): string {
  const ns = encodeURIComponent(pod.namespace);
  const name = encodeURIComponent(pod.name);
  return `${server.replace(/\/$/, '')}/api/v1/namespaces/${ns}/pods/${name}:${pod.port}/proxy${path}`;
}

/**
 * The message of a Kubernetes Status object, which is how the API server answers when it cannot reach the
 * pod (502/503), the pod is unknown (404) or the proxy is forbidden (403). The API never answers one.
 */
export function apiServerStatusMessage(status: number, body: string): string | undefined {
  if (status < 400) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { kind, apiVersion, message, reason } = parsed as Record<string, unknown>;
  if (kind !== 'Status' || apiVersion !== 'v1') return undefined;
  if (typeof message === 'string' && message !== '') return message;
  return typeof reason === 'string' && reason !== '' ? reason : `status ${status}`;
}

/**
 * Reaches pods through `/api/v1/namespaces/<ns>/pods/<name>:<port>/proxy/<path>` with the connection's
 * server, TLS and credentials (the same agent and headers as every other request of the operator).
 */
export function apiServerProxy(target: Connection | KubeConfig): PodHttp {
  const connection = toConnection(target);
  return {
    async request(pod, req) {
      const url = new URL(podProxyUrl(connection.server, pod, req.path));
      const signal = AbortSignal.timeout(req.timeoutMs);
      try {
        const { agent, headers } = await connection.authenticate();
        const options: https.RequestOptions = {
          method: req.method,
          agent,
          headers: req.body !== undefined ? { ...headers, 'content-type': 'application/json' } : headers,
        };
        const response = await send(url, { ...options, signal }, req.body);
        const proxyError = apiServerStatusMessage(response.status, response.body);
        return proxyError === undefined ? response : { ...response, proxyError };
      } catch (error) {
        const why = describeFailure(error, signal, req.timeoutMs);
        const context = `${req.method} ${req.path} on pod ${podName(pod)} via the API server`;
        throw new PodHttpError(context, why, { cause: error });
      }
    },
  };
}

/** One request with node's http(s); the signal aborts it until the whole body has arrived. */
function send(url: URL, options: https.RequestOptions, body: string | undefined): Promise<PodResponse> {
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('close', () => {
        if (!response.complete) reject(new Error('the connection closed before the whole answer arrived'));
      });
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}
