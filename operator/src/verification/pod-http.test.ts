import { describe, expect, it } from '@jest/globals';
import {
  MAX_PROXY_ERROR_CHARS,
  RequestRefusedError,
  apiServerStatusMessage,
  podProxyUrl,
} from './pod-http.js';
import { HOSTILE_PATHS, SAFE_PATHS } from '../../../test/support/hostile-paths.js';

describe('podProxyUrl', () => {
  const pod = { namespace: 'shop', name: 'hello-7d9-a', port: 8080 };

  it('addresses the pod proxy subresource, keeping a path prefix of the server', () => {
    expect(podProxyUrl('https://10.0.0.1:6443', pod, '/readyz')).toBe(
      'https://10.0.0.1:6443/api/v1/namespaces/shop/pods/hello-7d9-a:8080/proxy/readyz',
    );
    expect(podProxyUrl('https://rancher.example/k8s/clusters/c-1/', pod, '/hello/smokecheck?x=1')).toBe(
      'https://rancher.example/k8s/clusters/c-1/api/v1/namespaces/shop/pods/hello-7d9-a:8080/proxy/hello/smokecheck?x=1',
    );
  });

  it.each(HOSTILE_PATHS)('refuses to build a URL for %j, saying why', (path, why) => {
    expect(() => podProxyUrl('https://10.0.0.1:6443', pod, path)).toThrow(RequestRefusedError);
    expect(() => podProxyUrl('https://10.0.0.1:6443', pod, path)).toThrow(why);
  });

  it.each(SAFE_PATHS)('keeps %j under the pod’s proxy, as written and as parsed', (path) => {
    const prefix = 'https://10.0.0.1:6443/api/v1/namespaces/shop/pods/hello-7d9-a:8080/proxy/';
    const url = podProxyUrl('https://10.0.0.1:6443', pod, path);
    expect(url.startsWith(prefix)).toBe(true);
    expect(new URL(url).href.startsWith(prefix)).toBe(true);
  });

  it.each([
    [{ ...pod, namespace: '..' }, /not a valid pod name/],
    [{ ...pod, name: '../../namespaces/kube-system/pods/x' }, /not a valid pod name/],
    [{ ...pod, name: '..' }, /not a valid pod name/],
    [{ ...pod, port: 0 }, /not a port/],
    [{ ...pod, port: 8080.5 }, /not a port/],
  ])('refuses a pod that is not a pod: %j', (target, why) => {
    expect(() => podProxyUrl('https://10.0.0.1:6443', target, '/readyz')).toThrow(why);
  });
});

describe('apiServerStatusMessage', () => {
  const status = (fields: Record<string, unknown>): string =>
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', ...fields });

  it('reads the message of the API server’s own error answers', () => {
    const body = status({
      message: 'error trying to reach service: dial tcp 10.0.0.7:8080: i/o timeout',
      code: 503,
    });
    expect(apiServerStatusMessage(503, body)).toBe(
      'error trying to reach service: dial tcp 10.0.0.7:8080: i/o timeout',
    );
    expect(apiServerStatusMessage(403, status({ reason: 'Forbidden' }))).toBe('Forbidden');
    expect(apiServerStatusMessage(502, status({}))).toBe('status 502');
  });

  it('keeps only the start of a long message', () => {
    const message = apiServerStatusMessage(503, status({ message: 'x'.repeat(100_000) }));
    expect(message).toHaveLength(MAX_PROXY_ERROR_CHARS + 1);
    expect(message?.endsWith('…')).toBe(true);
  });

  it('leaves the pod’s own answers alone', () => {
    expect(apiServerStatusMessage(200, status({ message: 'x' }))).toBeUndefined();
    expect(
      apiServerStatusMessage(500, '{"error":"Injected failure (CHAOS_ERROR_RATE is set)."}'),
    ).toBeUndefined();
    expect(apiServerStatusMessage(503, 'upstream connect error')).toBeUndefined();
    expect(apiServerStatusMessage(503, 'null')).toBeUndefined();
    expect(apiServerStatusMessage(404, '{"kind":"Status","apiVersion":"v2"}')).toBeUndefined();
  });
});
