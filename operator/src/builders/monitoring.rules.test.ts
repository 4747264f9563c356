// Checks the Prometheus rules with promtool: the per-HelloWorld rules rendered from monitoring.ts for a
// sample HelloWorld, and the operator's own rules in config/monitoring/. `promtool test rules` runs the
// unit tests in config/monitoring/tests/, which feed series that must and must not fire each alert.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { V1ObjectMeta } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld } from '../crd/types.js';
import { buildPrometheusRule, RUNBOOK_BASE_URL, type PrometheusRule, type Rule } from './monitoring.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const monitoringDir = join(repoRoot, 'config/monitoring');
const testsDir = join(monitoringDir, 'tests');

/** The HelloWorld whose rendered rules config/monitoring/tests/helloworld-rules.test.yaml is written for. */
const sample: HelloWorld = {
  apiVersion: 'hello.dev/v1alpha1',
  kind: 'HelloWorld',
  metadata: Object.assign(new V1ObjectMeta(), { name: 'demo', namespace: 'team-a', uid: 'uid-1' }),
  spec: { image: 'hello/api:1.0.0' },
};

interface Dashboard {
  panels: { targets?: { expr: string }[] }[];
}

let promtool: string;
let workDir: string;
let alerts: Rule[];

function run(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(promtool, args, { cwd: workDir, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error?.message ?? ''}` };
}

/** Asserts exit 0, with promtool's output as the failure message. */
function expectSuccess(args: string[]): void {
  const { status, output } = run(args);
  if (status !== 0) throw new Error(`promtool ${args.join(' ')} exited ${String(status)}:\n${output}`);
}

beforeAll(() => {
  // Builds promtool on a cold machine (several minutes), then prints the cached binary's path.
  const built = spawnSync(join(repoRoot, 'hack/promtool.sh'), ['--path'], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`hack/promtool.sh --path failed:\n${built.stderr}`);
  promtool = built.stdout.trim();

  workDir = mkdtempSync(join(tmpdir(), 'helloworld-rules-'));
  const rendered = buildPrometheusRule(sample, resolveSpec(sample.spec));
  writeFileSync(join(workDir, 'helloworld-team-a-demo.rules.yaml'), stringify(rendered.spec));
  // The operator's rules ship as a PrometheusRule; promtool reads the rule file inside it.
  const operatorRule = parse(
    readFileSync(join(monitoringDir, 'operator-rules.yaml'), 'utf8'),
  ) as PrometheusRule;
  writeFileSync(join(workDir, 'operator.rules.yaml'), stringify(operatorRule.spec));
  for (const file of readdirSync(testsDir)) copyFileSync(join(testsDir, file), join(workDir, file));
  alerts = [rendered, operatorRule].flatMap((r) =>
    r.spec.groups.flatMap((g) => g.rules.filter((x) => x.alert)),
  );
}, 1_800_000);

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('Prometheus rules', () => {
  it('the rendered per-HelloWorld rules pass promtool check rules', () => {
    expectSuccess(['check', 'rules', '--lint=all', '--lint-fatal', 'helloworld-team-a-demo.rules.yaml']);
  });

  it('the operator rules pass promtool check rules', () => {
    expectSuccess(['check', 'rules', '--lint=all', '--lint-fatal', 'operator.rules.yaml']);
  });

  it('has promtool unit tests for both rule files', () => {
    expect(readdirSync(testsDir).sort()).toEqual(['helloworld-rules.test.yaml', 'operator-rules.test.yaml']);
  });

  it('every alert links to its own section of docs/runbooks.md', () => {
    const headings = new Set(
      readFileSync(join(repoRoot, 'docs/runbooks.md'), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('## '))
        .map((line) => line.slice(3).trim()),
    );
    expect(alerts.length).toBeGreaterThan(10);
    for (const rule of alerts) {
      const name = rule.alert ?? '';
      expect({ name, section: headings.has(name) }).toEqual({ name, section: true });
      expect(rule.annotations?.runbook_url).toBe(`${RUNBOOK_BASE_URL}#${name.toLowerCase()}`);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
      expect(rule.labels?.severity).toMatch(/^(critical|warning)$/);
    }
  });

  it('every Grafana dashboard query is valid PromQL', () => {
    // Grafana's variables replaced by sample values; each query checked as the expression of a rule.
    const sampleValues: Record<string, string> = {
      namespace: 'team-a',
      helloworld: 'demo',
      __rate_interval: '2m',
      __range: '6h',
    };
    const rules = readdirSync(join(monitoringDir, 'dashboards')).flatMap((file) => {
      const dashboard = JSON.parse(
        readFileSync(join(monitoringDir, 'dashboards', file), 'utf8'),
      ) as Dashboard;
      return dashboard.panels.flatMap((panel) => panel.targets ?? []).map((t) => t.expr);
    });
    expect(rules.length).toBeGreaterThan(20);
    const file = {
      groups: [
        {
          name: 'dashboards',
          rules: rules.map((expr, n) => ({
            record: `dashboard:query_${String(n)}`,
            expr: expr.replace(/\$(\w+)/g, (whole, name: string) => sampleValues[name] ?? whole),
          })),
        },
      ],
    };
    writeFileSync(join(workDir, 'dashboards.rules.yaml'), stringify(file));
    expectSuccess(['check', 'rules', 'dashboards.rules.yaml']);
  });

  it.each(['helloworld-rules.test.yaml', 'operator-rules.test.yaml'])('promtool test rules %s', (file) => {
    expectSuccess(['test', 'rules', file]);
  });
});
