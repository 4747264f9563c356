/**
 * Where the API server is and how to reach it: the TLS settings and the kept-alive sockets every
 * request shares, and the headers that authenticate one request. Node's own http(s) carries the
 * requests (rest.ts) and the watches (watch.ts).
 *
 * Why not client-node's KubeConfig for everything: importing it loads every generated API class and
 * model, about 80 MiB of resident memory before the first request, and the operator's whole budget is
 * 200 MiB. The common cases are read here directly: the pod's service account, and a kubeconfig whose
 * user has a client certificate or a bearer token. Anything else a kubeconfig can ask for (exec
 * plugins, auth providers, basic auth, impersonation, proxies, several files in KUBECONFIG) goes through
 * client-node's KubeConfig, imported only then.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';

export interface Connection {
  /** The API server's URL, without a trailing slash. */
  readonly server: string;
  /** Where the credentials came from, for the start-up log line. */
  readonly source: string;
  /** The agent every request goes through, and the headers that authenticate this one. */
  authenticate(): Promise<{ agent: http.Agent; headers: Record<string, string> }>;
}

/** TLS settings of the agent; what a kubeconfig's cluster and user entries say about the connection. */
export interface TlsSettings {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

/** One kept-alive agent: every request reuses its sockets instead of a TLS handshake each. */
export function keepAliveAgent(server: string, tls: TlsSettings = {}): http.Agent {
  if (server.startsWith('http:')) return new http.Agent({ keepAlive: true });
  return new https.Agent({ keepAlive: true, ...withoutUndefined(tls) });
}

/** A connection with fixed TLS settings and an optional bearer token, read anew when it may rotate. */
export function staticConnection(options: {
  server: string;
  source: string;
  tls?: TlsSettings;
  token?: () => string | undefined;
}): Connection {
  const server = options.server.replace(/\/+$/, '');
  const agent = keepAliveAgent(server, options.tls);
  return {
    server,
    source: options.source,
    authenticate: () => {
      const token = options.token?.();
      const headers: Record<string, string> = {};
      if (token !== undefined && token !== '') headers.Authorization = `Bearer ${token}`;
      return Promise.resolve({ agent, headers });
    },
  };
}

/** A token file re-read at most once a minute: the kubelet rotates projected service account tokens. */
export function tokenFile(path: string, now: () => number = Date.now, maxAgeMs = 60_000): () => string {
  let cached: { token: string; at: number } | undefined;
  return () => {
    if (cached === undefined || now() - cached.at >= maxAgeMs) {
      cached = { token: readFileSync(path, 'utf8').trim(), at: now() };
    }
    return cached.token;
  };
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's service account: KUBERNETES_SERVICE_HOST/PORT, its CA and its (rotating) token. */
export function inClusterConnection(
  env: NodeJS.ProcessEnv = process.env,
  root: string = SERVICE_ACCOUNT,
): Connection {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  return staticConnection({
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    source: 'in-cluster service account',
    tls: { ca: readFileSync(join(root, 'ca.crt')) },
    token: tokenFile(join(root, 'token')),
  });
}

interface KubeconfigDocument {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name?: string; cluster?: Record<string, unknown> }[];
  users?: { name?: string; user?: Record<string, unknown> }[];
}

/** Cluster and user fields this module handles; a kubeconfig using any other goes to client-node. */
const CLUSTER_FIELDS = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'extensions',
]);
const USER_FIELDS = new Set([
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'token',
  'tokenFile',
  'extensions',
]);

/**
 * The connection a parsed kubeconfig describes, or undefined when its current context needs something
 * only client-node does (see the module comment). Relative file paths are relative to `dir`, the
 * kubeconfig's directory, as kubectl reads them.
 */
export function kubeconfigConnection(doc: unknown, dir: string, source: string): Connection | undefined {
  const config = (doc ?? {}) as KubeconfigDocument;
  const context = config.contexts?.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = context?.user === undefined ? {} : config.users?.find((u) => u.name === context.user)?.user;
  if (cluster === undefined || user === undefined || typeof cluster.server !== 'string') return undefined;
  if (!Object.keys(cluster).every((k) => CLUSTER_FIELDS.has(k))) return undefined;
  if (!Object.keys(user).every((k) => USER_FIELDS.has(k))) return undefined;
  const file = (key: string, dataKey: string, entry: Record<string, unknown>): Buffer | undefined => {
    const data = entry[dataKey];
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    const path = entry[key];
    if (typeof path !== 'string') return undefined;
    return readFileSync(isAbsolute(path) ? path : join(dir, path));
  };
  const tokenPath = user.tokenFile;
  const token =
    typeof user.token === 'string'
      ? (): string => user.token as string
      : typeof tokenPath === 'string'
        ? tokenFile(isAbsolute(tokenPath) ? tokenPath : join(dir, tokenPath))
        : undefined;
  return staticConnection({
    server: cluster.server,
    source,
    tls: {
      ca: file('certificate-authority', 'certificate-authority-data', cluster),
      cert: file('client-certificate', 'client-certificate-data', user),
      key: file('client-key', 'client-key-data', user),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] === true ? false : undefined,
      servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
    },
    token,
  });
}

/**
 * A connection through client-node's KubeConfig, for what `kubeconfigConnection` does not handle and
 * for tests that hold a KubeConfig. Headers (exec plugins refresh their tokens) are asked for on every
 * request; the TLS settings of the first request make the one agent all requests share.
 */
export function connectionFromKubeConfig(kc: KubeConfig, source = 'kubeconfig'): Connection {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  const server = cluster.server.replace(/\/+$/, '');
  let agent: http.Agent | undefined;
  return {
    server,
    source,
    async authenticate() {
      const options: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(options);
      // A proxy needs client-node's own agent; otherwise ours, which keeps connections alive.
      agent ??=
        cluster.proxyUrl !== undefined && options.agent instanceof http.Agent
          ? options.agent
          : keepAliveAgent(server, {
              ca: options.ca as Buffer | undefined,
              cert: options.cert as Buffer | undefined,
              key: options.key as Buffer | undefined,
              rejectUnauthorized: options.rejectUnauthorized,
              servername: options.servername,
            });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(options.headers ?? {})) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
      }
      if (options.auth !== undefined && options.auth !== null) {
        headers.Authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
      }
      return { agent, headers };
    },
  };
}

/**
 * The operator's connection: in a pod (KUBERNETES_SERVICE_HOST set, KUBECONFIG not), the service
 * account; otherwise the kubeconfig of KUBECONFIG or ~/.kube/config, read here when it is a plain one
 * and through client-node when it is not.
 */
export async function loadConnection(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const { KUBERNETES_SERVICE_HOST: serviceHost, KUBECONFIG: kubeconfig } = env;
  if (serviceHost !== undefined && kubeconfig === undefined) return inClusterConnection(env);
  const path = kubeconfig ?? join(homedir(), '.kube', 'config');
  const source = kubeconfig !== undefined ? `KUBECONFIG=${kubeconfig}` : 'default kubeconfig';
  // The image ships without a YAML parser (it runs in-cluster); client-node brings its own.
  const yaml = await import('yaml').catch(() => undefined);
  if (yaml !== undefined && !path.includes(delimiter)) {
    const doc = yaml.parse(readFileSync(path, 'utf8')) as unknown;
    const connection = kubeconfigConnection(doc, dirname(path), source);
    if (connection !== undefined) return connection;
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  // Several files in KUBECONFIG are merged as kubectl does; client-node reads them from process.env.
  if (path.includes(delimiter)) kc.loadFromDefault();
  else kc.loadFromFile(path);
  return connectionFromKubeConfig(kc, `${source} (through client-node)`);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
