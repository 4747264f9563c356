/**
 * Raw JSON requests to the Kubernetes API server, over node's http(s) with the connection's agent and
 * credentials (connection.ts).
 *
 * Objects travel as the API server's own JSON, never through client-node's typed serializer: the
 * serializer drops fields it does not know and turns timestamps into Dates, which would make the
 * informer cache, server-side apply and `needsApply` disagree about what an object looks like.
 */
import http from 'node:http';
import https from 'node:https';
import { TLSSocket } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { connectionFromKubeConfig, type Connection } from './connection.js';

export type Verb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Content type of `body`; defaults to application/json. */
  contentType?: string;
  timeoutMs?: number;
  /** Aborts the request (as the timeout does), e.g. when leadership ends. */
  signal?: AbortSignal;
  /**
   * Called synchronously at the last moment before the request's bytes go out (once a socket is
   * connected); throwing cancels the request with that error. The leader's write gate (write-gate.ts).
   */
  beforeSend?: () => void;
}

/** The one function every API call in the runtime goes through; tests may wrap it. */
export interface KubeRest {
  request<T>(verb: Verb, path: string, options?: RequestOptions): Promise<T>;
}

/** A failed API call, with the HTTP status and the reason of the returned metav1.Status. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.code === 409;
}

export function isAlreadyExists(error: unknown): boolean {
  return error instanceof ApiError && error.code === 409 && error.reason === 'AlreadyExists';
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * The connection of a KubeConfig, made once: all clients of one KubeConfig share its kept-alive
 * sockets, instead of a TCP connection and a TLS handshake with the client certificate per request.
 */
const connections = new WeakMap<KubeConfig, Connection>();

/** A Connection as is, or the (shared) connection of a client-node KubeConfig. */
export function toConnection(target: Connection | KubeConfig): Connection {
  if (!('applyToHTTPSOptions' in target)) return target;
  let connection = connections.get(target);
  if (connection === undefined) {
    connection = connectionFromKubeConfig(target);
    connections.set(target, connection);
  }
  return connection;
}

/** The URL of `path` on the connection's server, with the query parameters that are set. */
export function apiUrl(
  connection: Connection,
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
): URL {
  const url = new URL(connection.server + path);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url;
}

/** node's http or https, by the URL's scheme. */
export function transportOf(url: URL): typeof https | typeof http {
  return url.protocol === 'http:' ? http : https;
}

export class HttpKubeRest implements KubeRest {
  private readonly connection: Connection;

  constructor(target: Connection | KubeConfig) {
    this.connection = toConnection(target);
  }

  async request<T>(verb: Verb, path: string, options: RequestOptions = {}): Promise<T> {
    const url = apiUrl(this.connection, path, options.query);
    const { agent, headers } = await this.connection.authenticate();
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const requestHeaders: Record<string, string> = { ...headers, Accept: 'application/json' };
    if (body !== undefined) {
      requestHeaders['Content-Type'] = options.contentType ?? 'application/json';
      requestHeaders['Content-Length'] = String(Buffer.byteLength(body));
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    const { status, text } = await send(
      url,
      { method: verb, agent, headers: requestHeaders, signal },
      body,
      options.beforeSend,
    );
    if (status >= 200 && status < 300) return (text === '' ? undefined : JSON.parse(text)) as T;
    throw toApiError(status, verb, path, text);
  }
}

/** One request; resolves with the status and the whole body as text. */
function send(
  url: URL,
  options: https.RequestOptions,
  body: string | undefined,
  beforeSend: (() => void) | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = transportOf(url).request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('close', () => {
        if (!response.complete) reject(new Error(`${url.pathname}: the connection closed mid-answer`));
      });
    });
    request.on('error', reject);
    if (beforeSend === undefined) {
      request.end(body);
      return;
    }
    // Nothing is written until the socket can carry it: a fresh connection may take a while to
    // connect (and the process may be frozen meanwhile), so the check runs when the bytes really leave.
    request.once('socket', (socket) => {
      const go = (): void => {
        try {
          beforeSend();
        } catch (error) {
          request.destroy(error as Error);
          return;
        }
        request.end(body);
      };
      if (!socket.connecting) go();
      else socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', go);
    });
  });
}

function toApiError(code: number, verb: Verb, path: string, text: string): ApiError {
  let reason = '';
  let message = text.slice(0, 500);
  try {
    const status = JSON.parse(text) as { reason?: string; message?: string };
    reason = status.reason ?? '';
    message = status.message ?? message;
  } catch {
    // not a metav1.Status; keep the raw text
  }
  return new ApiError(code, reason, `${verb} ${path}: ${code} ${reason}: ${message}`);
}

/** Where a kind lives in the API; `namespaced` decides whether paths include the namespace. */
export interface ResourceInfo {
  apiVersion: string;
  plural: string;
  namespaced: boolean;
}

/** A kind and where it lives in the API: an entry of the table a ResourcePaths is given. */
export interface KindInfo extends ResourceInfo {
  kind: string;
}

interface APIResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/** Resolves kinds to URL paths: the table it is given (the caller's kinds), cached discovery for the rest. */
export class ResourcePaths {
  private readonly known = new Map<string, ResourceInfo>();
  private readonly discovered = new Map<string, ResourceInfo>();

  constructor(
    private readonly rest: KubeRest,
    kinds: Iterable<KindInfo> = [],
  ) {
    for (const { apiVersion, kind, plural, namespaced } of kinds) {
      this.known.set(`${apiVersion}/${kind}`, { apiVersion, plural, namespaced });
    }
  }

  async info(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const key = `${apiVersion}/${kind}`;
    const known = this.known.get(key) ?? this.discovered.get(key);
    if (known !== undefined) return known;
    const list = await this.rest.request<APIResourceList>('GET', groupVersionPath(apiVersion));
    for (const r of list.resources) {
      if (!r.name.includes('/')) {
        this.discovered.set(`${apiVersion}/${r.kind}`, {
          apiVersion,
          plural: r.name,
          namespaced: r.namespaced,
        });
      }
    }
    const found = this.discovered.get(key);
    if (found === undefined) throw new Error(`the API server does not serve ${kind} in ${apiVersion}`);
    return found;
  }

  /** `/apis/<group>/<version>[/namespaces/<ns>]/<plural>[/<name>]`. */
  async path(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name?: string,
  ): Promise<string> {
    const info = await this.info(apiVersion, kind);
    return resourcePath(info, namespace, name);
  }
}

export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export function resourcePath(info: ResourceInfo, namespace: string | undefined, name?: string): string {
  let path = groupVersionPath(info.apiVersion);
  if (info.namespaced) {
    if (namespace === undefined || namespace === '')
      throw new Error(`a ${info.plural} path needs a namespace`);
    path += `/namespaces/${encodeURIComponent(namespace)}`;
  }
  path += `/${info.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  return path;
}

/** The collection path of a resource across all namespaces, e.g. `/apis/apps/v1/deployments`. */
export function collectionPath(info: ResourceInfo): string {
  return `${groupVersionPath(info.apiVersion)}/${info.plural}`;
}
