/**
 * The benchmark's I/O: the operator's own compiled runtime (dist/) for requests, server-side apply and
 * informers, a watch that notes when each object first satisfies a predicate, the operator as a child
 * process with its memory and CPU sampled from /proc, and scrapes of /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
  HttpMethod,
  Watch,
} from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { HelloWorld, HelloWorldSpec } from '../../operator/src/crd/types.js';
import { freePort } from '../../test/support/ports.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
const dist = (path: string): string => new URL(`../../dist/${path}`, import.meta.url).href;

// The compiled operator modules, typed by their sources (Node's type stripping cannot load those).
export const runtime = {
  rest: (await import(
    dist('operator/runtime/rest.js')
  )) as typeof import('../../operator/src/runtime/rest.js'),
  kube: (await import(
    dist('operator/runtime/kube.js')
  )) as typeof import('../../operator/src/runtime/kube.js'),
  informer: (await import(
    dist('operator/runtime/informer.js')
  )) as typeof import('../../operator/src/runtime/informer.js'),
  clientOptions: (await import(
    dist('operator/controller/client-options.js')
  )) as typeof import('../../operator/src/controller/client-options.js'),
  builders: (await import(
    dist('operator/builders/index.js')
  )) as typeof import('../../operator/src/builders/index.js'),
  defaults: (await import(
    dist('operator/crd/defaults.js')
  )) as typeof import('../../operator/src/crd/defaults.js'),
  logger: (await import(dist('common/logger.js'))) as typeof import('../../common/src/logger.js'),
};

export type KubeRest = import('../../operator/src/runtime/rest.js').KubeRest;

export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(process.env.KUBECONFIG ?? `${ROOT}.cluster/kubeconfig`);
  return kc;
}

/** A GET returning text (the API server's /metrics), authenticated like every other request. */
export async function getText(kc: KubeConfig, path: string): Promise<string> {
  const server = kc.getCurrentCluster()?.server ?? '';
  const context = new RequestContext(server.replace(/\/$/, '') + path, HttpMethod.GET);
  await kc.applySecurityAuthentication(context);
  const response = await new IsomorphicFetchHttpLibrary().send(context).toPromise();
  const text = await response.body.text();
  if (response.httpStatusCode !== 200) throw new Error(`GET ${path}: ${String(response.httpStatusCode)}`);
  return text;
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function pool<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Watches a collection and records, per object name, the first moment (performance.now()) it satisfies
 * the current predicate. `expect` sets a new predicate and resolves when every named object met it.
 */
export class Tracker {
  private readonly informer: import('../../operator/src/runtime/informer.js').Informer<KubernetesObject>;
  private predicate: (obj: KubernetesObject) => boolean = () => false;
  private isFailed: (obj: KubernetesObject) => boolean = () => false;
  private met = new Map<string, number>();
  private failed = new Set<string>();
  private waiting: { names: Set<string>; resolve: () => void } | undefined;

  constructor(kc: KubeConfig, path: string, labelSelector?: string) {
    this.informer = new runtime.informer.Informer<KubernetesObject>({
      path,
      ...(labelSelector !== undefined && { labelSelector }),
      rest: new runtime.rest.HttpKubeRest(kc),
      watcher: new Watch(kc),
      logger: runtime.logger.createLogger('bench-tracker', 'warn'),
    });
    const seen = (obj: KubernetesObject): void => {
      this.check(obj);
    };
    this.informer.addHandler({ add: seen, update: seen });
  }

  async start(): Promise<void> {
    this.informer.start();
    while (!this.informer.hasSynced()) await sleep(50);
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** Calls `handler` with every object as it is added or changed. */
  onObject(handler: (obj: KubernetesObject) => void): void {
    this.informer.addHandler({ add: handler, update: handler });
  }

  count(): number {
    return this.informer.size();
  }

  /**
   * Resolves once every object in `names` satisfied `predicate` (name → time met in `met`) or
   * `failed` (in `failed`), or when `timeoutMs` passed (the rest in `pending`).
   */
  async expect(
    names: string[],
    predicate: (obj: KubernetesObject) => boolean,
    failed: (obj: KubernetesObject) => boolean,
    timeoutMs: number,
  ): Promise<{ met: Map<string, number>; failed: Set<string>; pending: Set<string> }> {
    this.predicate = predicate;
    this.isFailed = failed;
    this.met = new Map();
    this.failed = new Set();
    const pending = new Set(names);
    const done = new Promise<void>((resolve) => (this.waiting = { names: pending, resolve }));
    for (const obj of this.informer.list()) this.check(obj);
    if (pending.size === 0) this.waiting?.resolve();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    return { met: this.met, failed: this.failed, pending: new Set(pending) };
  }

  private check(obj: KubernetesObject): void {
    const name = obj.metadata?.name ?? '';
    if (this.met.has(name) || this.failed.has(name)) return;
    if (this.predicate(obj)) this.met.set(name, performance.now());
    else if (this.isFailed(obj)) this.failed.add(name);
    else return;
    if (this.waiting?.names.delete(name) === true && this.waiting.names.size === 0) this.waiting.resolve();
  }
}

/** A namespace of the benchmark's own, labelled so that a person can tell what made it. */
export async function createNamespace(rest: KubeRest, name: string, bench: string): Promise<void> {
  await rest.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'hello.dev/bench': bench } } },
  });
}

export async function deleteNamespace(rest: KubeRest, name: string): Promise<void> {
  await rest.request('DELETE', `/api/v1/namespaces/${name}`).catch(() => undefined);
}

/** Whether the object at `path` exists: a 404 says no; any other error is thrown. */
export async function exists(rest: KubeRest, path: string): Promise<boolean> {
  return rest.request('GET', path).then(
    () => true,
    (error: unknown) => {
      if ((error as { code?: number }).code === 404) return false;
      throw error;
    },
  );
}

/** A benchmark cannot start without the CRD: say so, instead of informers retrying a 404. */
export async function checkCrd(rest: KubeRest, bench: string): Promise<void> {
  if (
    !(await exists(rest, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/helloworlds.hello.dev'))
  ) {
    process.stderr.write(
      `${bench}: the HelloWorld CRD is not installed in this cluster; run \`make install\` ` +
        '(kubectl apply --server-side -f crds/) first.\n',
    );
    process.exit(2);
  }
}

/** Server-side applies a HelloWorld with `spec`, as the benchmark's own field manager. */
export async function applyHelloWorld(
  rest: KubeRest,
  namespace: string,
  name: string,
  spec: HelloWorldSpec,
): Promise<void> {
  await rest.request('PATCH', `/apis/hello.dev/v1alpha1/namespaces/${namespace}/helloworlds/${name}`, {
    query: { fieldManager: 'bench', force: true },
    body: { apiVersion: 'hello.dev/v1alpha1', kind: 'HelloWorld', metadata: { name }, spec },
    contentType: 'application/apply-patch+yaml',
  });
}

/** A HelloWorld whose rollout of its current generation ended without becoming Available. */
export function helloWorldFailed(obj: KubernetesObject): boolean {
  const hw = obj as HelloWorld;
  const phase = hw.status?.phase;
  return (
    (phase === 'Failed' || phase === 'RolledBack') && hw.status?.observedGeneration === hw.metadata.generation
  );
}

/** A HelloWorld Available with `image`, for its current generation. */
export const helloWorldAvailable =
  (image: string) =>
  (obj: KubernetesObject): boolean => {
    const hw = obj as HelloWorld;
    return (
      hw.spec.image === image &&
      hw.status?.phase === 'Available' &&
      hw.status.observedGeneration === hw.metadata.generation
    );
  };

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface OperatorRun {
  port: number;
  child: ChildProcess;
  metrics(): Promise<string>;
  /** Current and peak resident memory from /proc, in bytes. */
  memory(): { rss: number; peak: number };
  stop(): Promise<void>;
}

/** Starts dist/operator/main.js scoped to `namespace`, logging to `logFile`; waits for /readyz. */
export async function startOperator(options: {
  namespace: string;
  workers: number;
  logFile: string;
  kubeconfig: string;
  /** node's flags, on its command line: NODE_OPTIONS refuses some V8 flags (--optimize-for-size). */
  nodeFlags: string[];
}): Promise<OperatorRun> {
  const port = await freePort();
  const log = openSync(options.logFile, 'w');
  const child = spawn(process.execPath, [...options.nodeFlags, 'dist/operator/main.js'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      KUBECONFIG: options.kubeconfig,
      METRICS_PORT: String(port),
      LEADER_ELECTION: 'false',
      WATCH_NAMESPACE: options.namespace,
      WORKERS: String(options.workers),
      // debug logs every status write with the fields it changed.
      LOG_LEVEL: process.env.OPERATOR_LOG_LEVEL ?? 'info',
    },
    stdio: ['ignore', log, log],
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${String(port)}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the operator exited; see ${options.logFile}`);
    if (i > 600) throw new Error(`the operator was not ready within 60 s; see ${options.logFile}`);
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    await sleep(100);
  }
  const status = (): string => readFileSync(`/proc/${String(child.pid)}/status`, 'utf8');
  const kib = (text: string, field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return {
    port,
    child,
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    memory: () => {
      const text = status();
      return { rss: kib(text, 'VmRSS'), peak: kib(text, 'VmHWM') };
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The NODE_OPTIONS the operator's Deployment sets (config/manager/manager.yaml): what it runs with. */
export function deployedNodeOptions(): string {
  const docs = parseAllDocuments(readFileSync(`${ROOT}config/manager/manager.yaml`, 'utf8'));
  for (const doc of docs) {
    const obj = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
    };
    if (obj.kind !== 'Deployment') continue;
    for (const container of obj.spec?.template?.spec?.containers ?? []) {
      const value = container.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
      if (value !== undefined) return value;
    }
  }
  return '';
}

/**
 * Operator processes on this machine not scoped to one namespace (tests of leader election run
 * them) and using the same kubeconfig: they would reconcile the benchmark's HelloWorlds too, so the
 * figures would not be one operator's. Operators of other clusters (another kubeconfig, or none: in
 * a kind node) are not counted. Process ids, excluding `own`.
 */
export function clusterWideOperators(own: number | undefined, kubeconfig: string): number[] {
  const ours = realpathOr(kubeconfig);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === own) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('dist/operator/main.js')) continue;
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const theirs = env.find((v) => v.startsWith('KUBECONFIG='))?.slice('KUBECONFIG='.length);
      if (theirs === undefined || realpathOr(resolve(readlinkSync(`/proc/${entry}/cwd`), theirs)) !== ours)
        continue;
      if (!env.some((v) => v.startsWith('WATCH_NAMESPACE=') && v.length > 'WATCH_NAMESPACE='.length))
        found.push(pid);
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
