// The informer against the real API server of the local cluster: events, indexes, and recovery from a
// broken watch and from a real 410 Gone.
import { jest } from '@jest/globals';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  loadKubeConfig,
  waitFor,
} from '../../../test/support/cluster.js';
import { Informer, type Watcher } from './informer.js';
import { HttpKubeRest, type KubeRest, type RequestOptions, type Verb } from './rest.js';
import { labelIndex } from './store.js';
import { HttpWatcher } from './watch.js';

const logger = createLogger('informer-test', 'silent');

/**
 * The operator's real watcher, with a record of the watches it opened. `expireNext` makes the next
 * watch end the way the API server ends one whose resourceVersion was compacted away: an in-stream
 * ERROR event with a 410 Status, then the end of the stream. (A fresh cluster's etcd still holds
 * every revision, so a real expiry cannot be provoked on demand.)
 */
class SpyWatcher implements Watcher {
  readonly controllers: AbortController[] = [];
  readonly expired: string[] = [];
  private expire = false;
  private readonly real: HttpWatcher;

  constructor(kc: KubeConfig) {
    this.real = new HttpWatcher(kc);
  }

  expireNext(): void {
    this.expire = true;
  }

  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, obj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const expire = this.expire;
    this.expire = false;
    let ended = false;
    const controller = await this.real.watch(path, query, callback, (err: unknown) => {
      if (!ended) done(err);
    });
    this.controllers.push(controller);
    if (expire) {
      this.expired.push(String(query.resourceVersion));
      callback('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Expired',
        code: 410,
        message: `too old resource version: ${String(query.resourceVersion)}`,
      });
      ended = true;
      controller.abort();
      done(null);
    }
    return controller;
  }
}

/** The real REST client; list calls can be held at a gate so a test can change things meanwhile. */
class GatedRest implements KubeRest {
  lists = 0;
  private gate: Promise<void> | undefined;
  private arrived: (() => void) | undefined;

  constructor(private readonly real: KubeRest) {}

  /** Holds the next list until the returned `open` is called; `reached` resolves when one is held. */
  hold(): { reached: Promise<void>; open: () => void } {
    let open!: () => void;
    this.gate = new Promise((resolve) => (open = resolve));
    const reached = new Promise<void>((resolve) => (this.arrived = resolve));
    return {
      reached,
      open: () => {
        this.gate = undefined;
        open();
      },
    };
  }

  async request<T>(verb: Verb, path: string, options?: RequestOptions): Promise<T> {
    if (verb === 'GET' && options?.query?.limit !== undefined) {
      this.lists++;
      if (this.gate !== undefined) {
        this.arrived?.();
        await this.gate;
      }
    }
    return this.real.request<T>(verb, path, options);
  }
}

// Real API calls, real backoff (the informer waits 1 s before a relist after an error).
jest.setTimeout(60_000);

describe('Informer (real API server)', () => {
  let kc: KubeConfig;
  let rest: HttpKubeRest;
  let namespace: string;
  let selector: string;
  let informer: Informer<V1ConfigMap> | undefined;

  const configMap = (
    name: string,
    data: Record<string, string>,
    extra: Partial<V1ConfigMap['metadata']> = {},
  ) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { 'test-run': namespace, 'app.kubernetes.io/instance': 'web' },
      ...extra,
    },
    data,
  });
  const create = (body: object) =>
    rest.request<V1ConfigMap>('POST', `/api/v1/namespaces/${namespace}/configmaps`, { body });
  const patch = (name: string, data: Record<string, string>) =>
    rest.request('PATCH', `/api/v1/namespaces/${namespace}/configmaps/${name}`, {
      body: { data },
      contentType: 'application/merge-patch+json',
    });
  const remove = (name: string) =>
    rest.request('DELETE', `/api/v1/namespaces/${namespace}/configmaps/${name}`);

  beforeAll(async () => {
    kc = loadKubeConfig();
    rest = new HttpKubeRest(kc);
    namespace = await createTestNamespace('informer', kc);
    selector = `test-run=${namespace}`;
  });

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
  });

  afterAll(async () => {
    await deleteTestNamespace(namespace, { kc });
  });

  function startInformer(watcher: Watcher, source: KubeRest = rest) {
    const events: string[] = [];
    const restarts: unknown[] = [];
    const started = new Informer<V1ConfigMap>({
      path: '/api/v1/configmaps',
      labelSelector: selector,
      rest: source,
      watcher,
      logger,
      pageSize: 2, // exercise paging with a handful of objects
      onRestart: (_resource, error) => restarts.push(error),
    });
    started.addHandler({
      add: (obj) => events.push(`add ${obj.metadata?.name ?? ''}`),
      update: (obj, old) =>
        events.push(`update ${obj.metadata?.name ?? ''} ${old.data?.v ?? ''}->${obj.data?.v ?? ''}`),
      delete: (obj) => events.push(`delete ${obj.metadata?.name ?? ''}`),
    });
    expect(started.hasSynced()).toBe(false);
    started.start();
    informer = started;
    return { informer: started, events, restarts };
  }

  it('lists, then sees adds, updates and deletes, and keeps its indexes current', async () => {
    const owner = await create(configMap('owner', { v: '0' }));
    await create(configMap('pre-1', { v: '1' }));
    await create(configMap('pre-2', { v: '1' }));
    const { informer: inf, events } = startInformer(new HttpWatcher(kc));
    await waitFor(() => inf.hasSynced(), { describe: 'the first list' });
    expect(inf.size()).toBe(3);
    expect(events.sort()).toEqual(['add owner', 'add pre-1', 'add pre-2']);
    events.length = 0;

    await create(
      configMap(
        'child',
        { v: '1' },
        {
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: 'owner',
              uid: owner.metadata!.uid!,
              controller: true,
            },
          ],
        },
      ),
    );
    await patch('pre-1', { v: '2' });
    await remove('pre-2');
    await waitFor(() => events.length >= 3, { describe: 'three watch events' });
    expect(events).toEqual(['add child', 'update pre-1 1->2', 'delete pre-2']);
    expect(inf.get(namespace, 'pre-1')?.data?.v).toBe('2');
    expect(inf.get(namespace, 'pre-1')?.metadata?.managedFields).toBeUndefined();
    expect(inf.get(namespace, 'pre-2')).toBeUndefined();
    expect(inf.byController(namespace, 'ConfigMap', 'owner').map((o) => o.metadata?.name)).toEqual(['child']);
    inf.addIndex('instance', labelIndex('app.kubernetes.io/instance'));
    expect(inf.byIndex('instance', `${namespace}/web`)).toHaveLength(3);
    expect(inf.list(namespace)).toHaveLength(3);
    expect(inf.list('elsewhere')).toEqual([]);

    await remove('child');
    await waitFor(() => inf.byController(namespace, 'ConfigMap', 'owner').length === 0, {
      describe: 'the owner index to drop the deleted child',
    });
    for (const name of ['owner', 'pre-1']) await remove(name);
  });

  it('relists after a broken watch and reports what changed while it was down', async () => {
    for (const name of ['a', 'b', 'c']) await create(configMap(name, { v: '1' }));
    const watcher = new SpyWatcher(kc);
    const gated = new GatedRest(rest);
    const { informer: inf, events, restarts } = startInformer(watcher, gated);
    await waitFor(() => inf.hasSynced() && watcher.controllers.length === 1, {
      describe: 'a synced informer',
    });
    events.length = 0;

    const gate = gated.hold();
    watcher.controllers[0]!.abort(); // the connection breaks
    await gate.reached;
    await remove('a');
    await patch('b', { v: '2' });
    await create(configMap('d', { v: '1' }));
    gate.open();

    await waitFor(() => events.length >= 3, { describe: 'the relist to report three changes' });
    expect(events.sort()).toEqual(['add d', 'delete a', 'update b 1->2']);
    expect(restarts).toHaveLength(1);
    expect(gated.lists).toBe(2 * Math.ceil(3 / 2)); // two full, paged lists

    // And it watches again.
    await waitFor(() => watcher.controllers.length === 2 && inf.activeWatch() !== undefined, {
      describe: 'a new watch',
    });
    await patch('c', { v: '3' });
    await waitFor(() => inf.get(namespace, 'c')?.data?.v === '3', {
      describe: 'the update of c after the restart',
    });
    for (const name of ['b', 'c', 'd']) await remove(name);
  });

  it('relists on 410 Gone from the API server without counting it as a failure', async () => {
    await create(configMap('e', { v: '1' }));
    const watcher = new SpyWatcher(kc);
    const counting = new GatedRest(rest);
    const { informer: inf, events, restarts } = startInformer(watcher, counting);
    await waitFor(() => inf.hasSynced() && watcher.controllers.length === 1, {
      describe: 'a synced informer',
    });

    // The next watch finds its resourceVersion compacted away, as after a long disconnection.
    watcher.expireNext();
    watcher.controllers[0]!.abort();
    await waitFor(() => watcher.expired.length === 1 && watcher.controllers.length >= 3, {
      describe: 'an expired watch, a relist and a new watch',
    });
    expect(restarts).toHaveLength(1); // the abort; the 410 is routine and relists without backoff
    expect(counting.lists).toBe(3); // the first list, the relist after the abort, the relist after the 410

    events.length = 0;
    await patch('e', { v: '2' });
    await waitFor(() => events.includes('update e 1->2'), { describe: 'the update after the 410' });
    await remove('e');
    await waitFor(() => events.includes('delete e'), { describe: 'the delete after the 410' });
  });

  it('stops cleanly', async () => {
    const { informer: inf } = startInformer(new HttpWatcher(kc));
    await waitFor(() => inf.hasSynced() && inf.activeWatch() !== undefined, {
      describe: 'a watching informer',
    });
    await inf.stop();
    expect(inf.activeWatch()).toBeUndefined();
  });
});

describe('Informer scoped to namespaces (real API server)', () => {
  let kc: KubeConfig;
  let rest: HttpKubeRest;
  const namespaces: string[] = [];
  let informer: Informer<V1ConfigMap> | undefined;

  const create = (namespace: string, name: string) =>
    rest.request<V1ConfigMap>('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
      body: { metadata: { name, labels: { 'test-run': namespaces[0]! } }, data: { v: '1' } },
    });

  beforeAll(async () => {
    kc = loadKubeConfig();
    rest = new HttpKubeRest(kc);
    for (const prefix of ['scoped-a', 'scoped-b', 'unwatched']) {
      namespaces.push(await createTestNamespace(prefix, kc));
    }
  });

  afterAll(async () => {
    await informer?.stop();
    for (const namespace of namespaces) await deleteTestNamespace(namespace, { kc });
  });

  it('lists and watches only its namespaces, into one cache; relisting one keeps the others', async () => {
    const [a, b, unwatched] = namespaces as [string, string, string];
    for (const namespace of namespaces) await create(namespace, 'before');
    const watcher = new SpyWatcher(kc);
    const events: string[] = [];
    informer = new Informer<V1ConfigMap>({
      path: '/api/v1/configmaps',
      namespaces: [a, b],
      labelSelector: `test-run=${a}`,
      rest,
      watcher,
      logger,
    });
    const key = (obj: V1ConfigMap): string => `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
    informer.addHandler({
      add: (obj) => events.push(`add ${key(obj)}`),
      delete: (obj) => events.push(`delete ${key(obj)}`),
    });
    informer.start();
    const inf = informer;
    await waitFor(() => inf.hasSynced() && watcher.controllers.length === 2, {
      describe: 'both namespaces listed and watched',
    });
    expect(events.sort()).toEqual([`add ${a}/before`, `add ${b}/before`]);
    events.length = 0;

    for (const namespace of namespaces) await create(namespace, 'after');
    await waitFor(() => events.length >= 2, { describe: 'the adds of the watched namespaces' });
    // The unwatched namespace's object was created first: had it been seen, it would be here too.
    expect(events.sort()).toEqual([`add ${a}/after`, `add ${b}/after`]);
    expect(inf.get(unwatched, 'before')).toBeUndefined();
    events.length = 0;

    // A broken watch in the first namespace relists that namespace only: the second keeps its objects.
    inf.activeWatch()!.abort();
    await waitFor(() => watcher.controllers.length === 3, { describe: 'the first namespace watched again' });
    await rest.request('DELETE', `/api/v1/namespaces/${b}/configmaps/after`);
    await waitFor(() => events.length >= 1, { describe: 'the delete in the second namespace' });
    expect(events).toEqual([`delete ${b}/after`]);
    expect(inf.list().map(key).sort()).toEqual([`${a}/after`, `${a}/before`, `${b}/before`]);
  });
});
