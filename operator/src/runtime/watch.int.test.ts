// HttpWatcher against the real API server: events as they happen, the ways a watch ends (refused,
// idle, stopped by its owner), each reported once through `done` and never as an uncaught error.
import { jest } from '@jest/globals';
import type { KubeConfig, V1ConfigMap } from '@kubernetes/client-node';
import {
  createTestNamespace,
  deleteTestNamespace,
  loadKubeConfig,
  waitFor,
} from '../../../test/support/cluster.js';
import { HttpKubeRest } from './rest.js';
import { HttpWatcher } from './watch.js';

jest.setTimeout(60_000);

describe('HttpWatcher (real API server)', () => {
  let kc: KubeConfig;
  let rest: HttpKubeRest;
  let namespace: string;
  const path = (): string => `/api/v1/namespaces/${namespace}/configmaps`;

  beforeAll(async () => {
    kc = loadKubeConfig();
    rest = new HttpKubeRest(kc);
    namespace = await createTestNamespace('watch', kc);
  });

  afterAll(async () => {
    await deleteTestNamespace(namespace, { kc });
  });

  /** Starts a watch and records its events and every call of `done`. */
  async function record(watcher: HttpWatcher, query: Record<string, string | number | boolean> = {}) {
    const events: string[] = [];
    const ends: unknown[] = [];
    const controller = await watcher.watch(
      path(),
      query,
      (phase, obj) => events.push(`${phase} ${(obj as V1ConfigMap).metadata?.name ?? ''}`),
      (err) => ends.push(err),
    );
    return { events, ends, controller };
  }

  it('streams the events of the collection, from a resourceVersion', async () => {
    const list = await rest.request<{ metadata: { resourceVersion: string } }>('GET', path());
    const { events, ends, controller } = await record(new HttpWatcher(kc), {
      resourceVersion: list.metadata.resourceVersion,
    });
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { v: '1' } };
    await rest.request('POST', path(), { body });
    await rest.request('PATCH', `${path()}/one`, {
      body: { data: { v: '2' } },
      contentType: 'application/merge-patch+json',
    });
    await rest.request('DELETE', `${path()}/one`);
    // Until three events, or the watch ended early: either way the assertion shows what arrived.
    await waitFor(() => events.length >= 3 || ends.length > 0, { describe: 'three events' });
    expect({ events, ends }).toEqual({ events: ['ADDED one', 'MODIFIED one', 'DELETED one'], ends: [] });
    controller.abort();
    await waitFor(() => ends.length === 1, { describe: 'the watch to end' });
    expect(ends).toHaveLength(1);
  });

  it('reports a refused watch with its status code', async () => {
    const { ends } = await record(new HttpWatcher(kc), { labelSelector: '!!not a selector' });
    await waitFor(() => ends.length === 1, { describe: 'the watch to be refused' });
    expect((ends[0] as { statusCode?: number }).statusCode).toBe(400);
  });

  it('ends a watch on which nothing arrived for the idle timeout, as a TimeoutError, once', async () => {
    const { ends } = await record(new HttpWatcher(kc, 500), { labelSelector: 'nothing=matches' });
    await waitFor(() => ends.length > 0, { describe: 'the idle watch to end' });
    // Give a second, late end a chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ends).toHaveLength(1);
    expect((ends[0] as Error).name).toBe('TimeoutError');
  });
});
