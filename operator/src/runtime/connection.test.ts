import { mkdtempSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inClusterConnection, kubeconfigConnection, loadConnection, tokenFile } from './connection.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'connection-'));
const base64 = (text: string): string => Buffer.from(text).toString('base64');

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443/', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [
      { name: 'other', context: { cluster: 'missing', user: 'u' } },
      { name: 'x', context: { cluster: 'c', user: 'u' } },
    ],
    'current-context': 'x',
  };
}

describe('loadConnection', () => {
  it('uses KUBECONFIG when it is set, even inside a pod', async () => {
    const file = join(dir(), 'config');
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
    const connection = await loadConnection({ KUBECONFIG: file, KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(connection.source).toBe(`KUBECONFIG=${file}`);
    expect(connection.server).toBe('https://127.0.0.1:6443');
    expect((await connection.authenticate()).headers).toEqual({ Authorization: 'Bearer t' });
  });

  it('hands a kubeconfig with an exec plugin to client-node', async () => {
    const file = join(dir(), 'config');
    writeFileSync(
      file,
      JSON.stringify(
        kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'true' } }),
      ),
    );
    const connection = await loadConnection({ KUBECONFIG: file });
    expect(connection.source).toBe(`KUBECONFIG=${file} (through client-node)`);
    expect(connection.server).toBe('https://127.0.0.1:6443');
  });
});

describe('kubeconfigConnection', () => {
  it('reads the current context: server, CA, client certificate and key, from data or files', async () => {
    const root = dir();
    writeFileSync(join(root, 'client.crt'), 'CERT');
    const connection = kubeconfigConnection(
      kubeconfig(
        { 'client-certificate': 'client.crt', 'client-key-data': base64('KEY') },
        { 'certificate-authority-data': base64('CA'), 'tls-server-name': 'api.internal' },
      ),
      root,
      'test',
    );
    expect(connection?.server).toBe('https://127.0.0.1:6443');
    const { agent, headers } = await connection!.authenticate();
    expect(headers).toEqual({});
    expect(agent).toBeInstanceOf(https.Agent);
    const options = (agent as https.Agent).options;
    expect([options.ca, options.cert, options.key].map(String)).toEqual(['CA', 'CERT', 'KEY']);
    expect(options.servername).toBe('api.internal');
    expect(options.keepAlive).toBe(true);
  });

  it('reads a token file relative to the kubeconfig, and skips TLS verification only when told', async () => {
    const root = dir();
    writeFileSync(join(root, 'token'), 'from-file\n');
    const connection = kubeconfigConnection(
      kubeconfig({ tokenFile: 'token' }, { 'insecure-skip-tls-verify': true }),
      root,
      'test',
    );
    const { agent, headers } = await connection!.authenticate();
    expect(headers).toEqual({ Authorization: 'Bearer from-file' });
    expect((agent as https.Agent).options.rejectUnauthorized).toBe(false);
  });

  it.each([
    ['an exec plugin', { exec: { command: 'aws' } }, {}],
    ['an auth provider', { 'auth-provider': { name: 'oidc' } }, {}],
    ['basic auth', { username: 'a', password: 'b' }, {}],
    ['impersonation', { token: 't', as: 'someone' }, {}],
    ['a proxy', { token: 't' }, { 'proxy-url': 'http://proxy:3128' }],
  ])('leaves %s to client-node', (_what, user, cluster) => {
    expect(kubeconfigConnection(kubeconfig(user, cluster), dir(), 'test')).toBeUndefined();
  });
});

describe('in-cluster', () => {
  it('reaches the service host with the service account CA and token', async () => {
    const root = dir();
    writeFileSync(join(root, 'ca.crt'), 'CA');
    writeFileSync(join(root, 'token'), 'sa-token');
    const connection = inClusterConnection(
      { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '8443' },
      root,
    );
    expect(connection.server).toBe('https://[fd00::1]:8443');
    const { agent, headers } = await connection.authenticate();
    expect(headers).toEqual({ Authorization: 'Bearer sa-token' });
    expect(String((agent as https.Agent).options.ca)).toBe('CA');
  });

  it('re-reads a rotated token once a minute', () => {
    const file = join(dir(), 'token');
    writeFileSync(file, 'first');
    let now = 0;
    const token = tokenFile(file, () => now);
    expect(token()).toBe('first');
    writeFileSync(file, 'second');
    now = 59_999;
    expect(token()).toBe('first');
    now = 60_000;
    expect(token()).toBe('second');
  });
});
