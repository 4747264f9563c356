// The Helm chart (charts/helloworld-operator) next to the kustomize installs of config/: render both and
// compare them object by object, so that the two ways to install the operator cannot drift apart.
// Rendering needs no cluster: helm from hack/helm.sh, kubectl (for `kubectl kustomize`) from
// hack/ensure-kubectl.sh; both are built from their Go modules on a cold machine and cached.
import { spawnSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './cluster.js';

export const CHART_DIR = 'charts/helloworld-operator';
/** The release and namespace that give the chart the object names of config/default. */
export const DEFAULT_RELEASE = 'helloworld-operator';
export const DEFAULT_NAMESPACE = 'helloworld-system';

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { cwd: repoRoot, input, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} failed (exit ${String(result.status)}):\n` +
        `${result.stderr}${result.stdout}${result.error?.message ?? ''}`,
    );
  }
  return result.stdout;
}

let helmPath: string | undefined;
/** The helm binary of hack/helm.sh (built once per version, then cached). */
export function helmBinary(): string {
  helmPath ??= run(`${repoRoot}hack/helm.sh`, ['--path']).trim();
  return helmPath;
}

/** Runs helm; throws with its output when it fails. */
export function helm(args: string[]): string {
  return run(helmBinary(), args);
}

/** Runs helm and returns its exit code and output, for checks that expect a failure. */
export function helmResult(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(helmBinary(), args, { cwd: repoRoot, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

let kubectlPath: string | undefined;
/** `kubectl kustomize DIR`, with the kubectl of hack/ensure-kubectl.sh. */
function kustomize(dir: string): string {
  kubectlPath ??= `${run(`${repoRoot}hack/ensure-kubectl.sh`, []).trim()}/kubectl`;
  return run(kubectlPath, ['kustomize', dir]);
}

/** A rendered Kubernetes object, with the chart template or kustomize directory it came from. */
export interface Rendered {
  object: Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };
  source: string;
}

/** The first object of `kind`, typed as the caller reads it; throws when there is none. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape it reads
export function objectOfKind<T>(rendered: Rendered[], kind: string): T {
  const found = rendered.find((r) => r.object.kind === kind);
  if (found === undefined) throw new Error(`no ${kind} among the rendered objects`);
  return found.object as unknown as T;
}

function parseObjects(text: string, source: (doc: string) => string): Rendered[] {
  return parseAllDocuments(text)
    .map((doc) => ({ object: doc.toJS() as Rendered['object'] | null, source: source(String(doc)) }))
    .filter((r): r is Rendered => r.object !== null);
}

/** `helm template` of the chart; `args` adds e.g. `--set`. Each object knows its template. */
export function renderChart(
  args: string[] = [],
  release = DEFAULT_RELEASE,
  namespace = DEFAULT_NAMESPACE,
): Rendered[] {
  const text = helm(['template', release, CHART_DIR, '--namespace', namespace, ...args]);
  // helm starts each document with `# Source: helloworld-operator/templates/<file>`.
  const sources = [...text.matchAll(/^# Source: [^/]+\/(\S+)$/gm)].map((m) => `${CHART_DIR}/${m[1]!}`);
  let i = 0;
  return parseObjects(text, () => sources[i++] ?? CHART_DIR);
}

/** `kubectl kustomize DIR`, e.g. config/default. */
export function renderKustomize(dir: string): Rendered[] {
  return parseObjects(kustomize(dir), () => dir);
}

/**
 * The chart templates that render an object from a verbatim copy of a file of the repository
 * (hack/sync-chart.sh keeps the copies): a difference there is fixed by re-syncing, not by editing.
 */
export const SYNCED_TEMPLATES: Readonly<Record<string, string>> = {
  [`${CHART_DIR}/templates/crd.yaml`]: 'crds/hello.dev_helloworlds.yaml',
  [`${CHART_DIR}/templates/clusterrole.yaml`]: 'config/rbac/role.yaml',
  [`${CHART_DIR}/templates/monitoring.yaml`]:
    'config/monitoring/operator-rules.yaml and config/monitoring/dashboards/',
};

/**
 * Labels and annotations that Helm and the chart add to every object's metadata (and the pods'), and config/
 * does not. Selectors are compared as they are: they are immutable, so a release that adopts the objects of
 * config/default (`helm install --take-ownership`) must select exactly what they select.
 */
const HELM_ONLY_KEYS = new Set([
  'helm.sh/chart',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'helm.sh/resource-policy',
]);

const isMap = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A copy without the keys of HELM_ONLY_KEYS in any `labels` or `annotations` map, and without such maps
 * left empty by that. */
export function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (!isMap(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if ((key === 'labels' || key === 'annotations') && isMap(child)) {
      const kept = Object.entries(child).filter(([k]) => !HELM_ONLY_KEYS.has(k));
      if (kept.length > 0 || Object.keys(child).length === 0) out[key] = Object.fromEntries(kept);
    } else {
      out[key] = normalise(child);
    }
  }
  return out;
}

const show = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
};

/** Where two multi-line strings first differ, e.g. a dashboard's JSON. */
function firstDifferentLine(chart: string, config: string): string {
  const a = chart.split('\n');
  const b = config.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: the chart has ${show(a[at])}, config has ${show(b[at])}`;
}

/**
 * The fields in which `chart` and `config` differ, one line each: `path: the chart has X, config has Y`.
 */
export function fieldDifferences(chart: unknown, config: unknown, path = ''): string[] {
  if (isDeepStrictEqual(chart, config)) return [];
  const here = path === '' ? '(the whole object)' : path;
  if (Array.isArray(chart) && Array.isArray(config)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(chart.length, config.length); i++) {
      if (i >= chart.length) out.push(`${path}[${i}]: only config has it: ${show(config[i])}`);
      else if (i >= config.length) out.push(`${path}[${i}]: only the chart has it: ${show(chart[i])}`);
      else out.push(...fieldDifferences(chart[i], config[i], `${path}[${i}]`));
    }
    return out;
  }
  if (isMap(chart) && isMap(config)) {
    const out: string[] = [];
    for (const key of [...new Set([...Object.keys(config), ...Object.keys(chart)])]) {
      const child = /^[A-Za-z_]\w*$/.test(key) ? `${path}${path ? '.' : ''}${key}` : `${path}[${show(key)}]`;
      if (!(key in chart)) out.push(`${child}: only config has it: ${show(config[key])}`);
      else if (!(key in config)) out.push(`${child}: only the chart has it: ${show(chart[key])}`);
      else out.push(...fieldDifferences(chart[key], config[key], child));
    }
    return out;
  }
  if (typeof chart === 'string' && typeof config === 'string' && (chart + config).includes('\n')) {
    return [`${here}: ${firstDifferentLine(chart, config)}`];
  }
  return [`${here}: the chart has ${show(chart)}, config has ${show(config)}`];
}

const keyOf = ({ object }: Rendered): string =>
  `${object.kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;

/** How to fix a difference in an object that `template` renders. */
function remedy(template: string, configSource: string): string {
  const synced = SYNCED_TEMPLATES[template];
  return synced
    ? `run hack/sync-chart.sh (${template} renders it from the chart's copy of ${synced})`
    : `edit ${template} (or the default in ${CHART_DIR}/values.yaml) to render what ${configSource} does`;
}

/**
 * Every difference between the chart's objects and config's, one problem per object, each naming the
 * object, the fields that differ and how to fix it. `omitted` lists the objects that config renders and
 * the chart leaves out on purpose, with the reason.
 */
export function compareInstalls(
  chart: Rendered[],
  config: Rendered[],
  omitted: Readonly<Record<string, string>> = {},
): string[] {
  const problems: string[] = [];
  const charted = new Map(chart.map((r) => [keyOf(r), r]));
  const configured = new Map(config.map((r) => [keyOf(r), r]));
  for (const [key, want] of configured) {
    const got = charted.get(key);
    if (got === undefined) {
      if (!(key in omitted)) {
        problems.push(
          `${key}: ${want.source} renders it, the chart does not: add a template to ${CHART_DIR}/templates/ ` +
            `(or, if the chart leaves it out on purpose, say why in the list of omitted objects of the test)`,
        );
      }
      continue;
    }
    const fields = fieldDifferences(normalise(got.object), normalise(want.object));
    if (fields.length > 0) {
      problems.push(
        `${key} differs between ${got.source} and ${want.source}; ${remedy(got.source, want.source)}:\n` +
          fields.map((f) => `    ${f}`).join('\n'),
      );
    }
  }
  for (const [key, got] of charted) {
    if (!configured.has(key)) {
      problems.push(
        `${key}: ${got.source} renders it, config does not: remove it from the chart's defaults, or add it to config/`,
      );
    }
  }
  return problems;
}
