import type { V1Deployment, V1ServiceAccount } from '@kubernetes/client-node';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld, HelloWorldSpec } from '../crd/types.js';
import { desiredState } from './index.js';

const ROLE = 'arn:aws:iam::111122223333:role/hello-api';

function build(spec: Partial<HelloWorldSpec> = {}) {
  const hw: HelloWorld = {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name: 'demo', namespace: 'team-a', uid: 'uid-1', generation: 1 },
    spec: { image: 'hello/api:1.0.0', ...spec },
  };
  const state = desiredState(hw, resolveSpec(hw.spec), {
    redis: { password: 'pA55-word_0123456789abcdefABCDEF', checksum: 'sum-1' },
    prometheusOperatorInstalled: false,
  });
  const accounts = state.apply.filter((o) => o.kind === 'ServiceAccount') as V1ServiceAccount[];
  const deployment = state.apply.find((o) => o.kind === 'Deployment') as V1Deployment;
  return { state, accounts, pod: deployment.spec!.template.spec! };
}

describe('spec.serviceAccount', () => {
  it('absent: no ServiceAccount child, and a pod template without serviceAccountName or a token', () => {
    const { accounts, pod } = build();
    expect(accounts).toEqual([]);
    expect('serviceAccountName' in pod).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('create: an owned ServiceAccount named after the HelloWorld, which the pods run as', () => {
    const { accounts, pod, state } = build({
      serviceAccount: { create: true, annotations: { 'eks.amazonaws.com/role-arn': ROLE } },
    });
    expect(accounts).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: {
          name: 'demo',
          namespace: 'team-a',
          labels: {
            'app.kubernetes.io/name': 'helloworld',
            'app.kubernetes.io/instance': 'demo',
            'app.kubernetes.io/component': 'api',
            'app.kubernetes.io/managed-by': 'helloworld-operator',
          },
          annotations: { 'eks.amazonaws.com/role-arn': ROLE },
          ownerReferences: [
            {
              apiVersion: 'hello.dev/v1alpha1',
              kind: 'HelloWorld',
              name: 'demo',
              uid: 'uid-1',
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        automountServiceAccountToken: false,
      },
    ]);
    expect(pod).toMatchObject({ serviceAccountName: 'demo', automountServiceAccountToken: false });
    // Applied before the Deployment whose pods need it.
    const order = state.apply.map((o) => o.kind);
    expect(order.indexOf('ServiceAccount')).toBeLessThan(order.indexOf('Deployment'));
  });

  it('create without annotations: no empty annotations map', () => {
    const [account] = build({ serviceAccount: { create: true } }).accounts;
    expect(account?.metadata).not.toHaveProperty('annotations');
  });

  it('name: the pods run as the existing ServiceAccount, and the operator builds none', () => {
    const { accounts, pod } = build({ serviceAccount: { name: 'payments-reader' } });
    expect(accounts).toEqual([]);
    expect(pod).toMatchObject({ serviceAccountName: 'payments-reader', automountServiceAccountToken: false });
  });

  it('create: false with a name is the name', () => {
    const { accounts, pod } = build({ serviceAccount: { create: false, name: 'payments-reader' } });
    expect(accounts).toEqual([]);
    expect(pod.serviceAccountName).toBe('payments-reader');
  });

  it('mounts the API token only when automountToken is true', () => {
    expect(
      build({ serviceAccount: { name: 'x', automountToken: true } }).pod.automountServiceAccountToken,
    ).toBe(true);
    expect(build({ serviceAccount: { create: true, automountToken: true } }).pod).toMatchObject({
      serviceAccountName: 'demo',
      automountServiceAccountToken: true,
    });
    // The created ServiceAccount itself stays off: only these pods asked.
    const [account] = build({ serviceAccount: { create: true, automountToken: true } }).accounts;
    expect(account?.automountServiceAccountToken).toBe(false);
  });

  it('changes the revision (new pods) when set, and not when absent', () => {
    const plain = build().state.specRevision;
    expect(build({ podLabels: {} }).state.specRevision).toBe(plain);
    expect(build({ serviceAccount: { name: 'x' } }).state.specRevision).not.toBe(plain);
    expect(build({ serviceAccount: { create: true } }).state.specRevision).not.toBe(plain);
  });

  it("rolls the pods when the created ServiceAccount's annotations change (webhooks read them at pod creation)", () => {
    const role = (arn: string) =>
      build({ serviceAccount: { create: true, annotations: { 'eks.amazonaws.com/role-arn': arn } } });
    const first = role(ROLE);
    expect(
      first.state.applied.template.metadata?.annotations?.['hello.dev/service-account-checksum'],
    ).toMatch(/^[0-9a-f]{16}$/);
    expect(role(ROLE).state.specRevision).toBe(first.state.specRevision);
    expect(role(`${ROLE}-v2`).state.specRevision).not.toBe(first.state.specRevision);
    // Nothing to tie to without created annotations.
    for (const serviceAccount of [{ create: true }, { name: 'x' }] as const)
      expect(build({ serviceAccount }).state.applied.template.metadata?.annotations).not.toHaveProperty(
        'hello.dev/service-account-checksum',
      );
  });

  it('an empty block (which admission rejects) keeps the default rather than guess', () => {
    const { accounts, pod, state } = build({ serviceAccount: {} });
    expect(accounts).toEqual([]);
    expect('serviceAccountName' in pod).toBe(false);
    expect(state.specRevision).toBe(build().state.specRevision);
  });
});
