// The one table of kinds agrees with what the builders produce, with the RBAC the operator is granted,
// and with the CRDs of the kinds that are custom resources.
import { readFileSync } from 'node:fs';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { desiredState } from '../builders/index.js';
import { ownerReference } from '../builders/meta.js';
import { buildPrometheusRule, buildServiceMonitor, monitoringChildren } from '../builders/monitoring.js';
import { resolveSpec } from './defaults.js';
import { ALL_KINDS, crdName, KINDS, type Kind } from './kinds.js';
import type { HelloWorld, HelloWorldSpec } from './types.js';

const root = new URL('../../../', import.meta.url);
const readYaml = (path: string): unknown[] =>
  parseAllDocuments(readFileSync(new URL(path, root), 'utf8')).map((doc) => doc.toJS() as unknown);

const hw = (spec: Partial<HelloWorldSpec>): HelloWorld => ({
  apiVersion: 'hello.dev/v1alpha1',
  kind: 'HelloWorld',
  metadata: { name: 'demo', namespace: 'team-a', uid: 'uid-1', generation: 1 },
  spec: { image: 'hello/api:1.0.0', ...spec },
});

/** Every object the builders can produce, and every child they can ask to be absent. */
function everythingBuilt(): { objects: KubernetesObject[]; refs: { apiVersion: string; kind: string }[] } {
  const objects: KubernetesObject[] = [];
  const refs: { apiVersion: string; kind: string }[] = [];
  const specs: Partial<HelloWorldSpec>[] = [
    {},
    { autoscaling: { minReplicas: 2, maxReplicas: 5 } },
    { redis: { mode: 'External', urlSecretRef: { name: 'memorydb', key: 'url' } } },
    { serviceAccount: { create: true } },
  ];
  for (const spec of specs) {
    const h = hw(spec);
    const resolved = resolveSpec(h.spec);
    const state = desiredState(h, resolved, {
      redis: { password: 'pA55-word_0123456789abcdefABCDEF', checksum: 'sum-1' },
      prometheusOperatorInstalled: false,
    });
    objects.push(...state.apply, buildServiceMonitor(h, resolved), buildPrometheusRule(h, resolved));
    refs.push(...state.absent, ...monitoringChildren(h), ownerReference(h));
  }
  return { objects, refs };
}

const entry = (apiVersion: string | undefined, kind: string | undefined): Kind | undefined =>
  ALL_KINDS.find((k) => k.apiVersion === apiVersion && k.kind === kind);

describe('the kinds table', () => {
  it('has an entry for every kind the builders produce, with the scope of the built object', () => {
    const { objects, refs } = everythingBuilt();
    const produced = new Set<string>();
    for (const obj of objects) {
      const known = entry(obj.apiVersion, obj.kind);
      expect({ object: `${obj.apiVersion ?? ''}/${obj.kind ?? ''}`, known: known !== undefined }).toEqual({
        object: `${obj.apiVersion ?? ''}/${obj.kind ?? ''}`,
        known: true,
      });
      expect({ kind: obj.kind, namespaced: obj.metadata?.namespace !== undefined }).toEqual({
        kind: obj.kind,
        namespaced: known?.namespaced,
      });
      produced.add(`${obj.apiVersion ?? ''}/${obj.kind ?? ''}`);
    }
    for (const ref of refs) expect(entry(ref.apiVersion, ref.kind)).toBeDefined();
    // The builders cover every child kind the table lists as applied.
    for (const kind of [
      KINDS.Deployment,
      KINDS.StatefulSet,
      KINDS.Service,
      KINDS.Secret,
      KINDS.ServiceAccount,
      KINDS.NetworkPolicy,
    ])
      expect(produced).toContain(`${kind.apiVersion}/${kind.kind}`);
  });

  it("names each kind's plural exactly as the operator's RBAC grants it", () => {
    const [role] = readYaml('config/rbac/role.yaml') as {
      rules: { apiGroups: string[]; resources: string[] }[];
    }[];
    const granted = new Set(
      (role?.rules ?? []).flatMap((rule) =>
        rule.apiGroups.flatMap((group) => rule.resources.map((resource) => `${group}/${resource}`)),
      ),
    );
    for (const kind of ALL_KINDS) {
      const group = kind.apiVersion.includes('/') ? (kind.apiVersion.split('/')[0] ?? '') : '';
      expect({ kind: kind.kind, granted: granted.has(`${group}/${kind.plural}`) }).toEqual({
        kind: kind.kind,
        granted: true,
      });
    }
  });

  it('matches the CRDs of the custom resources (group, version, kind, plural, scope)', () => {
    const crds = [
      ...readYaml('crds/hello.dev_helloworlds.yaml'),
      ...readYaml('test/fixtures/prometheus-operator-crds.yaml'),
    ] as {
      metadata: { name: string };
      spec: {
        group: string;
        scope: string;
        names: { kind: string; plural: string };
        versions: { name: string }[];
      };
    }[];
    for (const kind of [KINDS.HelloWorld, KINDS.ServiceMonitor, KINDS.PrometheusRule]) {
      const crd = crds.find((c) => c.metadata.name === crdName(kind));
      expect(crd).toBeDefined();
      const versions = crd?.spec.versions.map((v) => `${crd.spec.group}/${v.name}`) ?? [];
      expect(versions).toContain(kind.apiVersion);
      expect(crd?.spec.names).toMatchObject({ kind: kind.kind, plural: kind.plural });
      expect(crd?.spec.scope === 'Namespaced').toBe(kind.namespaced);
    }
  });
});
