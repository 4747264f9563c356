import type { KubernetesObject } from '@kubernetes/client-node';
import { CONTROLLER_INDEX, Store, controllerIndex, keyOf, objectKey } from './store.js';

const obj = (name: string, owner?: string, rv = '1'): KubernetesObject => ({
  metadata: {
    name,
    namespace: 'ns',
    resourceVersion: rv,
    ownerReferences:
      owner === undefined
        ? []
        : [{ apiVersion: 'v1', kind: 'HelloWorld', name: owner, uid: owner, controller: true }],
  },
});

describe('Store', () => {
  it('keys objects by namespace/name', () => {
    expect(objectKey('ns', 'a')).toBe('ns/a');
    expect(objectKey(undefined, 'a')).toBe('a');
    expect(keyOf(obj('a'))).toBe('ns/a');
  });

  it('keeps the controller index current through adds, re-owning updates and deletes', () => {
    const store = new Store<KubernetesObject>({ [CONTROLLER_INDEX]: controllerIndex });
    store.upsert(obj('a', 'x'));
    store.upsert(obj('b', 'x'));
    store.upsert(obj('c', 'y'));
    const names = (owner: string) =>
      store.byIndex(CONTROLLER_INDEX, `ns/HelloWorld/${owner}`).map((o) => o.metadata?.name);
    expect(names('x')).toEqual(['a', 'b']);
    expect(store.upsert(obj('b', 'y', '2'))?.metadata?.resourceVersion).toBe('1');
    expect(names('x')).toEqual(['a']);
    expect(names('y')).toEqual(['c', 'b']);
    store.delete('ns/a');
    expect(names('x')).toEqual([]);
    expect(store.size()).toBe(2);
    expect(store.delete('ns/a')).toBeUndefined();
  });

  it('builds an index added later from the current contents', () => {
    const store = new Store<KubernetesObject>();
    store.upsert(obj('a', 'x'));
    store.addIndex('name', (o) => [o.metadata?.name ?? '']);
    expect(store.byIndex('name', 'a')).toHaveLength(1);
    expect(() => store.byIndex('missing', 'a')).toThrow('no index named missing');
  });
});
