/**
 * Measures what @kubernetes/client-node (the installed version) does in the situations the operator's
 * runtime is built for, on a real API server: the answers behind "why runtime/ does not use the
 * library for this" in docs/operator-runtime.md. Prints one JSON line per finding; changes nothing
 * outside the namespace it creates (and deletes).
 *
 *   npm run build && KUBECONFIG=... node bench/client-node.ts
 */
import { createServer, connect, type Socket } from 'node:net';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  ListWatch,
  PatchStrategy,
  Watch,
  type V1ConfigMap,
} from '@kubernetes/client-node';
// Not exported by the package index; the serializer KubernetesObjectApi.patch() runs every body through.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';

// The operator's own runtime (compiled, as bench/operator/kube.ts loads it), for the same scenarios.
const dist = (path: string): string => new URL(`../dist/${path}`, import.meta.url).href;
const ours = {
  informer: (await import(
    dist('operator/runtime/informer.js')
  )) as typeof import('../operator/src/runtime/informer.js'),
  rest: (await import(dist('operator/runtime/rest.js'))) as typeof import('../operator/src/runtime/rest.js'),
  watch: (await import(
    dist('operator/runtime/watch.js')
  )) as typeof import('../operator/src/runtime/watch.js'),
  logger: (await import(dist('common/logger.js'))) as typeof import('../common/src/logger.js'),
};

const kc = new KubeConfig();
kc.loadFromFile(process.env.KUBECONFIG ?? '.cluster/kubeconfig');
const core = kc.makeApiClient(CoreV1Api);
const objects = KubernetesObjectApi.makeApiClient(kc);
const namespace = `client-node-measure-${Date.now().toString(36)}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function report(finding: string, measured: unknown): void {
  process.stdout.write(`${JSON.stringify({ finding, measured })}\n`);
}

/** A Watch that records the query of every watch it opens, and lets the test end the open stream. */
class RecordingWatch extends Watch {
  readonly queries: Record<string, unknown>[] = [];
  readonly phases: string[] = [];
  override async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, obj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.queries.push({ ...query });
    return super.watch(
      path,
      query,
      (phase, obj, raw) => {
        this.phases.push(phase);
        callback(phase, obj, raw);
      },
      done,
    );
  }
}

/** A TCP relay to the API server whose open connections can be cut, as a restarting API server would. */
async function relay(): Promise<{ kc: KubeConfig; cut: () => void; close: () => void }> {
  const target = new URL(kc.getCurrentCluster()?.server ?? '');
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const relayed = new KubeConfig();
  relayed.loadFromString(kc.exportConfig());
  const cluster = relayed.getCurrentCluster();
  if (cluster === null) throw new Error('no current cluster');
  relayed.clusters = relayed.clusters.map((c) =>
    c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${String(port)}` } : c,
  );
  return {
    kc: relayed,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function configMaps(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: `cm-${String(i)}`, labels: { measure: 'yes' } }, data: { i: String(i) } },
    });
  }
}

async function listWatchAfterConnectionCut(): Promise<void> {
  const { kc: relayed, cut, close } = await relay();
  const api = relayed.makeApiClient(CoreV1Api);
  const watch = new RecordingWatch(relayed);
  const errors: string[] = [];
  const lw = new ListWatch<V1ConfigMap>(
    `/api/v1/namespaces/${namespace}/configmaps`,
    watch,
    () => api.listNamespacedConfigMap({ namespace }),
    false,
  );
  lw.on('error', (err: unknown) => errors.push(err instanceof Error ? err.message : String(err)));
  await lw.start();
  await sleep(500);
  report('ListWatch: query of its watch request', watch.queries[0]);
  cut();
  await sleep(5000);
  const watchesBefore = watch.queries.length;
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-cut' } } });
  await sleep(5000);
  report('ListWatch: after the connection to the API server was cut (then 10 s)', {
    errorCallbacks: errors,
    watchRequestsOpened: watchesBefore,
    watchRequestsAfterTenSeconds: watch.queries.length,
    seesObjectCreatedAfterCut: lw.get('after-cut', namespace) !== undefined,
  });
  await lw.stop();
  close();
}

async function informerAfterConnectionCut(): Promise<void> {
  const { kc: relayed, cut, close } = await relay();
  const rest = new ours.rest.HttpKubeRest(relayed);
  const restarts: string[] = [];
  const informer = new ours.informer.Informer<V1ConfigMap>({
    path: `/api/v1/namespaces/${namespace}/configmaps`,
    rest,
    watcher: new ours.watch.HttpWatcher(relayed),
    logger: ours.logger.createLogger('client-node-measure', 'silent'),
    onRestart: (_resource, error) => restarts.push(error instanceof Error ? error.message : String(error)),
  });
  informer.start();
  while (!informer.hasSynced()) await sleep(50);
  cut();
  await sleep(5000);
  await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-cut-ours' } } });
  await sleep(5000);
  report("the operator's Informer: after the connection to the API server was cut (then 10 s)", {
    restarts,
    seesObjectCreatedAfterCut: informer.get(namespace, 'after-cut-ours') !== undefined,
  });
  await informer.stop();
  close();
}

async function watchWithExpiredResourceVersion(): Promise<void> {
  const events: { phase: string; code?: number }[] = [];
  let doneWith: unknown = 'not called';
  const watch = new Watch(kc);
  await watch.watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    { resourceVersion: '1' },
    (phase, obj) => events.push({ phase, code: (obj as { code?: number }).code }),
    (err) => (doneWith = err === null ? null : String(err)),
  );
  await sleep(3000);
  report('Watch from an expired resourceVersion ("1")', { events, doneWith });
}

async function bookmarks(): Promise<void> {
  const watch = new RecordingWatch(kc);
  const lw = new ListWatch<V1ConfigMap>(
    `/api/v1/namespaces/${namespace}/configmaps`,
    watch,
    () => core.listNamespacedConfigMap({ namespace }),
    false,
  );
  await lw.start();
  await sleep(1000);
  await lw.stop();
  const raw = new RecordingWatch(kc);
  const list = await core.listNamespacedConfigMap({ namespace });
  const controller = await raw.watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    { resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 120 },
    () => undefined,
    () => undefined,
  );
  // The API server sends bookmarks to watches with a deadline, about a minute apart.
  await sleep(65_000);
  controller.abort();
  report('Bookmarks', {
    listWatchAsksForBookmarks: watch.queries.some((q) => q.allowWatchBookmarks === true),
    phasesSeenByListWatch: [...new Set(watch.phases)],
    bookmarksWhenAskedFor65s: raw.phases.filter((p) => p === 'BOOKMARK').length,
  });
}

async function pagedList(): Promise<void> {
  const lw = new ListWatch<V1ConfigMap>(
    `/api/v1/namespaces/${namespace}/configmaps`,
    new Watch(kc),
    () => core.listNamespacedConfigMap({ namespace, labelSelector: 'measure=yes', limit: 50 }),
    false,
    'measure=yes',
  );
  await lw.start();
  await sleep(500);
  const all = await core.listNamespacedConfigMap({ namespace, labelSelector: 'measure=yes' });
  report('ListWatch with a paged list function (limit 50)', {
    objectsInNamespace: all.items.length,
    objectsCached: lw.list(namespace).length,
  });
  const cached = lw.list(namespace)[0];
  const size = (o: unknown): number => JSON.stringify(o).length;
  const withoutManagedFields = lw
    .list(namespace)
    .map((o) => ({ ...o, metadata: { ...o.metadata, managedFields: undefined } }));
  report('ListWatch cache contents', {
    creationTimestampIsDate: cached?.metadata?.creationTimestamp instanceof Date,
    keepsManagedFields: cached?.metadata?.managedFields !== undefined,
    jsonBytesCached: lw.list(namespace).reduce((n, o) => n + size(o), 0),
    jsonBytesWithoutManagedFields: withoutManagedFields.reduce((n, o) => n + size(o), 0),
  });
  await lw.stop();
}

async function serverSideApply(): Promise<void> {
  const desired = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'applied', namespace },
    data: { a: '1' },
  };
  const applied: V1ConfigMap = await objects.patch(
    desired,
    undefined,
    undefined,
    'measure',
    true,
    PatchStrategy.ServerSideApply,
  );
  report('KubernetesObjectApi.patch with PatchStrategy.ServerSideApply', {
    managers: applied.metadata?.managedFields?.map((f) => `${f.manager ?? ''}/${f.operation ?? ''}`),
    creationTimestampIsDate: applied.metadata?.creationTimestamp instanceof Date,
  });
  let conflict: unknown;
  try {
    await objects.patch(
      { ...desired, metadata: { ...desired.metadata, uid: '00000000-0000-0000-0000-000000000000' } },
      undefined,
      undefined,
      'measure',
      true,
      PatchStrategy.ServerSideApply,
    );
  } catch (error) {
    conflict = error;
  }
  report('SSA with a wrong metadata.uid (precondition)', errorShape(conflict));
  let missing: unknown;
  try {
    await objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'missing', namespace } });
  } catch (error) {
    missing = error;
  }
  report('read of a missing object: the error', errorShape(missing));
  // What patch() sends is ObjectSerializer.serialize(spec, <the library's model of apiVersion/kind>).
  const sent = ObjectSerializer.serialize({ ...desired, futureField: { x: 1 } }, 'V1ConfigMap') as object;
  report('request body of a known kind with a field the library model does not know', {
    fieldSent: 'futureField',
    keptInBody: 'futureField' in sent,
  });
  // A status through the object API: it has no subresource parameter, so the patch goes to the object
  // itself, where the API server ignores status for a kind with a status subresource (a HelloWorld).
  const hw = {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name: 'status', namespace },
  };
  await objects.patch(
    { ...hw, spec: { image: 'registry.example/hello:1' } },
    undefined,
    undefined,
    'measure',
    true,
    PatchStrategy.ServerSideApply,
  );
  const patched = (await objects.patch(
    { ...hw, spec: { image: 'registry.example/hello:1' }, status: { phase: 'Available' } },
    undefined,
    undefined,
    'measure',
    true,
    PatchStrategy.ServerSideApply,
  )) as { status?: unknown };
  report('status through KubernetesObjectApi.patch (SSA) of a kind with a status subresource', {
    sent: { phase: 'Available' },
    statusAfter: patched.status ?? null,
  });
}

function errorShape(error: unknown): Record<string, unknown> {
  if (error === undefined) return { threw: false };
  const e = error as ApiException<unknown>;
  return {
    threw: true,
    isApiException: error instanceof ApiException,
    code: e.code,
    bodyType: typeof e.body,
    reasonField: (e as unknown as { reason?: string }).reason,
    bodyReason: typeof e.body === 'string' ? (JSON.parse(e.body) as { reason?: string }).reason : undefined,
  };
}

await core.createNamespace({ body: { metadata: { name: namespace } } });
try {
  if (process.env.ONLY_BOOKMARKS === undefined) {
    await configMaps(120);
    await pagedList();
    await serverSideApply();
    await watchWithExpiredResourceVersion();
    await listWatchAfterConnectionCut();
    await informerAfterConnectionCut();
  }
  // About a minute: SKIP_BOOKMARKS=1 leaves it out.
  if (process.env.SKIP_BOOKMARKS === undefined) await bookmarks();
} finally {
  await core.deleteNamespace({ name: namespace });
}
