// The Helm chart (charts/helloworld-operator): helm lint, helm template, and no drift from config/. The
// chart rendered with its default values must give the objects of `kubectl kustomize config/default`
// (but the Namespace), with watchNamespaces those of config/namespaced, and with monitoring on those of
// config/monitoring; Helm's own labels aside, field by field. A failure names the object, the fields
// and the fix (hack/sync-chart.sh for the verbatim copies, or the template to edit).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  CHART_DIR,
  compareInstalls,
  DEFAULT_NAMESPACE,
  fieldDifferences,
  helm,
  helmBinary,
  helmResult,
  objectOfKind,
  renderChart,
  renderKustomize,
  type Rendered,
} from '../test/support/chart.js';
import { repoRoot } from '../test/support/cluster.js';

/** What config/default renders and the chart leaves out, and why. */
const OMITTED = {
  // Helm installs into a namespace that exists or that `--create-namespace` makes; a chart that owns its
  // own namespace deletes it, with everything in it, on uninstall. docs/install.md labels it for Pod Security.
  [`Namespace ${DEFAULT_NAMESPACE}`]: 'the release namespace is not the chart’s',
};

const MONITORING = [
  '--set',
  'monitoring.serviceMonitor.enabled=true',
  '--set',
  'monitoring.prometheusRule.enabled=true',
  '--set',
  'monitoring.dashboards.enabled=true',
];

/** Fails with every problem, one paragraph each. */
function expectNoProblems(problems: string[]): void {
  if (problems.length > 0) throw new Error(`the chart has drifted from config/:\n\n${problems.join('\n\n')}`);
}

/** Each test runs helm or kubectl a few times: seconds, more on a loaded machine. */
const RENDER_TIMEOUT_MS = 120_000;

let defaults: Rendered[];

beforeAll(() => {
  // Builds helm (and kubectl, for kustomize) on a cold machine: several minutes. Then cached.
  helmBinary();
  renderKustomize('config/default');
  defaults = renderChart();
}, 1_800_000);

describe('helm lint', () => {
  it.each([
    ['the default values', []],
    ['watchNamespaces', ['--set', 'watchNamespaces={team-a,team-b}']],
    ['monitoring on', MONITORING],
  ])(
    'passes --strict with %s',
    (_name, args) => {
      const { status, output } = helmResult(['lint', '--strict', CHART_DIR, ...args]);
      if (status !== 0) throw new Error(`helm lint --strict ${args.join(' ')} failed:\n${output}`);
      expect(output).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    },
    RENDER_TIMEOUT_MS,
  );
});

describe('no drift from config/', () => {
  it(
    'keeps its verbatim copies (files/) equal to their sources',
    () => {
      const check = spawnSync(join(repoRoot, 'hack/sync-chart.sh'), ['--check'], { encoding: 'utf8' });
      if (check.status !== 0) throw new Error(check.stderr);
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'renders with its default values what config/default does',
    () => {
      expectNoProblems(compareInstalls(defaults, renderKustomize('config/default'), OMITTED));
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'renders with watchNamespaces what config/namespaced does',
    () => {
      const namespaced = renderKustomize('config/namespaced');
      // The chart's list is the one config/namespaced ships, read from its Deployment.
      const deployment = objectOfKind<{
        spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
      }>(namespaced, 'Deployment');
      const watched = deployment.spec.template.spec.containers[0]!.env.find(
        (e) => e.name === 'WATCH_NAMESPACE',
      )!.value!;
      const chart = renderChart(['--set', `watchNamespaces={${watched}}`]);
      expectNoProblems(compareInstalls(chart, namespaced, OMITTED));
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'renders with monitoring on what config/default and config/monitoring do',
    () => {
      const config = [...renderKustomize('config/default'), ...renderKustomize('config/monitoring')];
      expectNoProblems(compareInstalls(renderChart(MONITORING), config, OMITTED));
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'names the object, the field and the fix when a verb of config/rbac/role.yaml changes',
    () => {
      const config = renderKustomize('config/default');
      const role = objectOfKind<{ rules: { resources: string[]; verbs: string[] }[] }>(config, 'ClusterRole');
      const events = role.rules.findIndex((r) => r.resources.includes('events'));
      const verbs = role.rules[events]!.verbs.length;
      role.rules[events]!.verbs.push('delete');
      const [problem, ...others] = compareInstalls(defaults, config, OMITTED);
      expect(others).toEqual([]);
      expect(problem).toContain(
        `ClusterRole helloworld-operator differs between ${CHART_DIR}/templates/clusterrole.yaml and config/default; ` +
          `run hack/sync-chart.sh (${CHART_DIR}/templates/clusterrole.yaml renders it from the chart's copy of config/rbac/role.yaml)`,
      );
      expect(problem).toContain(`rules[${events}].verbs[${verbs}]: only config has it: "delete"`);
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'names the template to edit when a field of the Deployment differs, and objects only one side has',
    () => {
      const config = renderKustomize('config/default').filter((r) => r.object.kind !== 'PodDisruptionBudget');
      const chart = renderChart(['--set', 'logLevel=debug']);
      const problems = compareInstalls(chart, config, OMITTED);
      expect(problems).toHaveLength(2);
      expect(problems[0]).toContain(
        `Deployment ${DEFAULT_NAMESPACE}/helloworld-operator differs between ${CHART_DIR}/templates/deployment.yaml ` +
          `and config/default; edit ${CHART_DIR}/templates/deployment.yaml`,
      );
      expect(problems[0]).toMatch(
        /spec\.template\.spec\.containers\[0\]\.env\[\d+\]\.value: the chart has "debug", config has "info"/,
      );
      expect(problems[1]).toMatch(
        /^PodDisruptionBudget helloworld-system\/helloworld-operator: .*poddisruptionbudget\.yaml renders it, config does not/,
      );
      expect(compareInstalls(defaults, renderKustomize('config/default'), {})).toEqual([
        expect.stringMatching(/^Namespace helloworld-system: config\/default renders it, the chart does not/),
      ]);
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'shows where two dashboards differ, not the whole JSON',
    () => {
      expect(
        fieldDifferences({ data: { 'a.json': '{\n "x": 1\n}' } }, { data: { 'a.json': '{\n "x": 2\n}' } }),
      ).toEqual(['data["a.json"]: line 2: the chart has " \\"x\\": 1", config has " \\"x\\": 2"']);
    },
    RENDER_TIMEOUT_MS,
  );
});

describe('values', () => {
  /** `helm template` with `args`, which must fail with a message matching `message`. */
  function expectRefused(args: string[], message: RegExp): void {
    const { status, output } = helmResult(['template', 'x', CHART_DIR, ...args]);
    expect(status).not.toBe(0);
    expect(output).toMatch(message);
  }

  it(
    'refuses combinations and values that cannot work, saying what to change',
    () => {
      expectRefused(
        ['--set', 'leaderElection.enabled=false'],
        /replicaCount is 2 but leaderElection.enabled is false: .*set replicaCount to 1/,
      );
      expectRefused(
        ['--set', 'watchNamespaces={team-a,Team_B}'],
        /watchNamespaces\/1.*does not match pattern/s,
      );
      expectRefused(['--set', 'watchNamespaces={team-a,team-a}'], /watchNamespaces lists "team-a" twice/);
      expectRefused(['--set', 'logLevel=verbose'], /logLevel.*(must be one of|value must be)/s);
      expectRefused(['--set', 'replicas=3'], /additional properties 'replicas' not allowed/);
      expectRefused(
        ['--set', 'serviceAccount.create=false'],
        /serviceAccount.name: name the existing ServiceAccount/,
      );
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'renders a single replica without leader election, and a pinned digest',
    () => {
      const digest = `sha256:${'a'.repeat(64)}`;
      const objects = renderChart([
        '--set',
        'replicaCount=1',
        '--set',
        'leaderElection.enabled=false',
        '--set',
        `image.digest=${digest}`,
      ]);
      expect(objects.map((r) => r.object.kind)).not.toContain('Role');
      const deployment = objectOfKind<{
        spec: {
          replicas: number;
          template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } };
        };
      }>(objects, 'Deployment');
      expect(deployment.spec.replicas).toBe(1);
      const container = deployment.spec.template.spec.containers[0]!;
      expect(container.image).toBe(`helloworld-operator@${digest}`);
      expect(container.env.find((e) => e.name === 'LEADER_ELECTION')?.value).toBe('false');
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'keeps the CRD on uninstall unless told otherwise, and leaves it out with crds.install=false',
    () => {
      const crd = (args: string[]): Record<string, unknown> | undefined =>
        renderChart(args).find((r) => r.object.kind === 'CustomResourceDefinition')?.object.metadata;
      expect(crd([])).toMatchObject({ annotations: { 'helm.sh/resource-policy': 'keep' } });
      expect(crd(['--set', 'crds.keep=false'])).not.toHaveProperty('annotations');
      expect(crd(['--set', 'crds.install=false'])).toBeUndefined();
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'documents every value of values.yaml in the chart README',
    () => {
      const leaves = (value: unknown, path: string): string[] =>
        value !== null &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.keys(value).length > 0 &&
        !['resources', 'labels'].includes(path.split('.').pop()!)
          ? Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k))
          : [path];
      const values = parse(readFileSync(join(repoRoot, CHART_DIR, 'values.yaml'), 'utf8')) as object;
      const readme = readFileSync(join(repoRoot, CHART_DIR, 'README.md'), 'utf8');
      const undocumented = leaves(values, '').filter((key) => !readme.includes(`| \`${key}\` |`));
      expect(undocumented).toEqual([]);
    },
    RENDER_TIMEOUT_MS,
  );

  it(
    'are rendered by the helm that hack/tools/helm/go.mod pins',
    () => {
      const goMod = readFileSync(join(repoRoot, 'hack/tools/helm/go.mod'), 'utf8');
      const pinned = /^\s*helm\.sh\/helm\/v4 (v\S+)/m.exec(goMod)![1]!;
      expect(helm(['version', '--short']).trim()).toBe(pinned);
    },
    RENDER_TIMEOUT_MS,
  );
});
