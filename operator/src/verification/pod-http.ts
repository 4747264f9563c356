/**
 * HTTP to one pod of the new revision. The operator goes through the API server's pod proxy, so checks work
 * wherever it runs; tests, and an operator that can reach pod IPs, talk to the pod directly.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Connection } from '../runtime/connection.js';
import { toConnection } from '../runtime/rest.js';
import { unsafePathReason } from './path-rules.js';
import type { PodRef } from './types.js';

/** The most of a pod's answer that is read; a longer one is cut off and fails the request. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** The most of the API server's own error message that is kept (it ends up in status and events). */
export const MAX_PROXY_ERROR_CHARS = 300;

export interface PodRequest {
  method: string;
  /** Path and query on the pod, starting with "/". */
  path: string;
  /** Sent as JSON: the API speaks nothing else. */
  body?: string;
  timeoutMs: number;
  /** Aborts the request when a larger deadline (the whole smoke run, the whole sample) has passed. */
  signal?: AbortSignal;
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

/** The operator would not send the request: nothing left the process. */
export class RequestRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestRefusedError';
  }
}

/** The pod answered more than MAX_BODY_BYTES; the rest was not read. */
export class BodyTooLargeError extends Error {
  constructor() {
    super(`the answer is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB; reading stopped there`);
    this.name = 'BodyTooLargeError';
  }
}

/** At most `max` characters, an ellipsis marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function podName(pod: PodRef): string {
  return `${pod.namespace}/${pod.name}`;
}

/** The request's own timeout, and the caller's deadline when it has one. */
function requestSignals(req: PodRequest): { timeout: AbortSignal; signal: AbortSignal } {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  return { timeout, signal: req.signal ? AbortSignal.any([timeout, req.signal]) : timeout };
}

function describeFailure(error: unknown, req: PodRequest, timeout: AbortSignal): string {
  if (req.signal?.aborted) return 'stopped: the overall deadline passed';
  if (timeout.aborted) return `no answer within ${req.timeoutMs} ms`;
  // fetch wraps the socket error ("fetch failed"); its cause says what actually happened.
  const cause: unknown = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Talks to the pod itself; `baseUrl` maps a pod to e.g. `http://10.1.2.3:8080`. */
export function directHttp(baseUrl: (pod: PodRef) => string): PodHttp {
  return {
    async request(pod, req) {
      refuseUnsafePath(req.path);
      const url = `${baseUrl(pod).replace(/\/$/, '')}${req.path}`;
      const { timeout, signal } = requestSignals(req);
      try {
        const response = await fetch(url, {
          method: req.method,
          signal,
          ...(req.body !== undefined && { body: req.body, headers: { 'content-type': 'application/json' } }),
        });
        return { status: response.status, body: await readCapped(response) };
      } catch (error) {
        const why = describeFailure(error, req, timeout);
        throw new PodHttpError(`${req.method} ${req.path} on pod ${podName(pod)}`, why, { cause: error });
      }
    },
  };
}

/** A fetch answer's body as text, cancelled once it grows past MAX_BODY_BYTES. */
async function readCapped(response: Response): Promise<string> {
  if (Number(response.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) {
    await response.body?.cancel();
    throw new BodyTooLargeError();
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const bytes of response.body) {
    const chunk = bytes as Uint8Array;
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(); // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function refuseUnsafePath(path: string): void {
  const unsafe = unsafePathReason(path);
  if (unsafe !== undefined) throw new RequestRefusedError(`path ${JSON.stringify(path)} refused: ${unsafe}`);
}

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const POD_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * The URL of a path on a pod through the API server's proxy subresource. Throws RequestRefusedError
 * unless the URL, as written and as any URL parser reads it, stays under that pod's
 * `/api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/`: the operator's credentials must only ever reach
 * the pod.
 */
export function podProxyUrl(server: string, pod: PodRef, path: string): string {
  refuseUnsafePath(path);
  if (!NAMESPACE_NAME.test(pod.namespace) || !POD_NAME.test(pod.name)) {
    throw new RequestRefusedError(`pod ${JSON.stringify(podName(pod))} refused: not a valid pod name`);
  }
  if (!Number.isInteger(pod.port) || pod.port < 1 || pod.port > 65535) {
    throw new RequestRefusedError(`port ${String(pod.port)} of pod ${podName(pod)} refused: not a port`);
  }
  const prefix = `${server.replace(/\/$/, '')}/api/v1/namespaces/${pod.namespace}/pods/${pod.name}:${pod.port}/proxy/`;
  const raw = `${prefix}${path.slice(1)}`;
  const base = new URL(prefix);
  const parsed = new URL(raw);
  const query = path.indexOf('?');
  const expectedPath = `${base.pathname}${(query === -1 ? path : path.slice(0, query)).slice(1)}`;
  // Whatever normalisation a parser applies must change nothing, or the request could land elsewhere.
  if (parsed.origin !== base.origin || parsed.pathname !== expectedPath || !raw.startsWith(prefix)) {
    throw new RequestRefusedError(
      `path ${JSON.stringify(path)} refused: the URL would leave the proxy of pod ${podName(pod)}`,
    );
  }
  return raw;
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
  if (typeof message === 'string' && message !== '') return truncate(message, MAX_PROXY_ERROR_CHARS);
  return typeof reason === 'string' && reason !== ''
    ? truncate(reason, MAX_PROXY_ERROR_CHARS)
    : `status ${status}`;
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
      const { timeout, signal } = requestSignals(req);
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
        const why = describeFailure(error, req, timeout);
        const context = `${req.method} ${req.path} on pod ${podName(pod)} via the API server`;
        throw new PodHttpError(context, why, { cause: error });
      }
    },
  };
}

/**
 * One request with node's http(s); the signal aborts it until the whole body has arrived, and a body
 * past MAX_BODY_BYTES aborts it too.
 */
function send(url: URL, options: https.RequestOptions, body: string | undefined): Promise<PodResponse> {
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const request = transport.request(url, options, (response) => {
      const tooLarge = (): void => {
        reject(new BodyTooLargeError());
        request.destroy();
      };
      if (Number(response.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
        tooLarge();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) tooLarge();
        else chunks.push(chunk);
      });
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
