import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeConfig } from './kube.js';

describe('loadKubeConfig', () => {
  const saved = { ...process.env };

  afterEach(() => {
    process.env = { ...saved };
  });

  it('uses KUBECONFIG when it is set, even inside a pod', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    const file = join(dir, 'config');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: c, cluster: { server: "https://127.0.0.1:6443" } }]',
        'users: [{ name: u, user: { token: t } }]',
        'contexts: [{ name: x, context: { cluster: c, user: u } }]',
        'current-context: x',
      ].join('\n'),
    );
    process.env.KUBECONFIG = file;
    process.env.KUBERNETES_SERVICE_HOST = '10.0.0.1';
    const { kc, source } = loadKubeConfig();
    expect(source).toBe(`KUBECONFIG=${file}`);
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
  });
});
