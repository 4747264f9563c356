// HttpKubeRest against the real API server: requests share kept-alive connections instead of
// opening a TCP and TLS connection each.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../../test/support/cluster.js';
import { HttpKubeRest } from './rest.js';

/** node announces every new TCP client socket on this channel (a TLS connection starts as one). */
const CONNECTED = 'net.client.socket';

describe('HttpKubeRest (real API server)', () => {
  let kc: KubeConfig;
  let connections = 0;
  const onConnect = (): void => {
    connections++;
  };

  beforeAll(() => {
    kc = loadKubeConfig();
    subscribe(CONNECTED, onConnect);
  });

  afterAll(() => {
    unsubscribe(CONNECTED, onConnect);
  });

  it('reuses one connection for sequential requests, across clients of the same KubeConfig', async () => {
    const first = new HttpKubeRest(kc);
    const second = new HttpKubeRest(kc);
    await first.request('GET', '/api/v1/namespaces/default');
    connections = 0;
    for (let i = 0; i < 10; i++) {
      const rest = i % 2 === 0 ? first : second;
      const ns = await rest.request<{ metadata: { name: string } }>('GET', '/api/v1/namespaces/default');
      expect(ns.metadata.name).toBe('default');
    }
    expect(connections).toBe(0);
  });

  it('opens more connections only for requests in flight at the same time', async () => {
    const rest = new HttpKubeRest(kc);
    await rest.request('GET', '/version');
    connections = 0;
    for (let round = 0; round < 3; round++) {
      await Promise.all(Array.from({ length: 4 }, () => rest.request('GET', '/version')));
    }
    // HTTP/1.1: at most one connection per concurrent request, kept for the next rounds.
    expect(connections).toBeLessThanOrEqual(4);
  });
});
