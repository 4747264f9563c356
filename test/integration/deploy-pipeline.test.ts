// The review → live pipeline's parts on the local cluster (docs/pipeline.md): both overlays of deploy/
// render and the API server accepts them; deploy/deploy.sh (apply, then deploy/wait-for-verdict.ts)
// passes a good image, is not fooled by the previous generation's Available right after an apply, and
// fails a bad image that the operator (a real process) rolls back, with status.lastRollback.message in
// the job summary; hostile status text stays inside the summary's code block and away from GitHub
// Actions' workflow commands.
//
// Simulated nodes answer no HTTP, so the review overlay gets verification switched off and a short
// deadline from an overlay of the test's own, the way a user adapts it.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  loadKubeConfig,
  repoRoot,
} from '../support/cluster.js';
import {
  getHelloWorld,
  kubectl,
  operatorInNamespace,
  startOperator,
  type OperatorProcess,
} from '../support/operator.js';

const GOOD = 'hello/api:1.0.0';
const BAD = 'pullfail.invalid/hello/api:2';

let kc: KubeConfig;
let namespace: string;
let operator: OperatorProcess;
let cleanup: (current?: OperatorProcess) => Promise<void>;
let work: string;

beforeAll(async () => {
  kc = loadKubeConfig();
  ({ namespace, operator, cleanup } = await operatorInNamespace('deploy'));
  work = mkdtempSync(join(tmpdir(), 'deploy-pipeline-'));
}, 180_000);

afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await cleanup(operator);
}, 60_000);

/**
 * `kubectl kustomize` of deploy/overlays/OVERLAY under a kustomization that sets the image (as the
 * pipeline does) and merges `patch` into the HelloWorld; the objects, moved into `ns`.
 */
function render(overlay: string, ns: string, image: string, patch?: object): Record<string, unknown>[] {
  const dir = mkdtempSync(join(work, `${overlay}-`));
  const wrapper = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [relative(dir, join(repoRoot, 'deploy', 'overlays', overlay))],
    images: [{ name: 'hello-api', newName: image.replace(/:[^:/]+$/, ''), newTag: image.split(':').at(-1) }],
    ...(patch ? { patches: [{ target: { kind: 'HelloWorld' }, patch: stringify(patch) }] } : {}),
  };
  writeFileSync(join(dir, 'kustomization.yaml'), stringify(wrapper));
  const docs = parseAllDocuments(kubectl(['kustomize', dir])).map((d) => d.toJS() as Record<string, unknown>);
  return docs.map((doc) => ({ ...doc, metadata: { ...(doc.metadata as object), namespace: ns } }));
}

/** On simulated nodes: nothing answers HTTP, so no verification, and a deadline the test can wait out. */
const SIMULATED = {
  apiVersion: 'hello.dev/v1alpha1',
  kind: 'HelloWorld',
  metadata: { name: 'hello' },
  spec: { rollout: { progressDeadlineSeconds: 30, verification: { enabled: false } } },
};

/** Applies the objects as the pipeline does and returns the HelloWorld's generation after the apply. */
function apply(objects: Record<string, unknown>[]): number {
  const list = { apiVersion: 'v1', kind: 'List', items: objects };
  const out = kubectl(
    ['apply', '--server-side', '--field-manager', 'deploy-pipeline', '-o', 'json', '-f', '-'],
    JSON.stringify(list),
  );
  const applied = JSON.parse(out) as { kind: string; items?: KubernetesObject[] } & KubernetesObject;
  const hw = applied.kind === 'List' ? applied.items?.find((o) => o.kind === 'HelloWorld') : applied;
  return hw?.metadata?.generation ?? 0;
}

interface Run {
  code: number | null;
  stdout: string;
  summary: string;
}

/** Runs a script of deploy/ as the workflow does, with a job summary file of its own. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const summaryFile = join(mkdtempSync(join(work, 'summary-')), 'summary.md');
  writeFileSync(summaryFile, '');
  const command = script.endsWith('.ts') ? [process.execPath, script] : [script];
  const child = spawn(command[0] ?? '', [...command.slice(1), ...args], {
    cwd: repoRoot,
    env: {
      // Node 24 first, as on the workflow's runner, for deploy.sh's own `node`.
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      // kubectl keeps its discovery cache under HOME (without it, in the working directory).
      HOME: process.env.HOME ?? tmpdir(),
      KUBECONFIG: kubeconfigPath(),
      GITHUB_STEP_SUMMARY: summaryFile,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      resolve({ code, stdout, summary: readFileSync(summaryFile, 'utf8') });
    }),
  );
}

const waitForVerdict = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  run('deploy/wait-for-verdict.ts', [...args, '--interval', '500ms'], env);

describe('the deploy overlays', () => {
  it.each([
    ['review', { replicas: 1, redis: { mode: 'Managed' } }],
    ['live', { autoscaling: { minReplicas: 3 }, redis: { mode: 'External' } }],
  ])('%s renders one HelloWorld with the image set, and the API server accepts it', (overlay, expected) => {
    const image = 'registry.example.com/team/hello-api:1.4.2';
    const objects = render(overlay, namespace, image);
    expect(objects.map((o) => o.kind)).toEqual(['HelloWorld']);
    expect(objects[0]).toMatchObject({ spec: { image, ...expected } });
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
    const out = kubectl(['apply', '--server-side', '--dry-run=server', '-o', 'name', '-f', '-'], list);
    expect(out.trim()).toBe('helloworld.hello.dev/hello');
  });
});

describe('deploy.sh and wait-for-verdict.ts', () => {
  const target = () => `${namespace}/hello`;

  it('deploy.sh passes a good image; after a bad one it waits for the new generation, then fails with lastRollback.message', async () => {
    // The user's own overlay on top of review, as the workflow's `overlays` input names it: simulated
    // nodes, in this test's namespace.
    const overlay = mkdtempSync(join(work, 'overlay-'));
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace,
      resources: [relative(overlay, join(repoRoot, 'deploy', 'overlays', 'review'))],
      patches: [{ patch: stringify(SIMULATED) }],
    };
    writeFileSync(join(overlay, 'kustomization.yaml'), stringify(kustomization));
    const deploy = (image: string, timeout: string) => run('deploy/deploy.sh', [overlay, image, timeout]);

    const passed = await deploy(GOOD, '120s');
    expect(passed.stdout).toContain(`HelloWorld ${target()} is Available: image ${GOOD}`);
    expect(passed.code).toBe(0);
    expect(passed.summary).toContain('### ✅ HelloWorld ` ' + target() + ' `: Available');
    const good = (await getHelloWorld(kc, namespace, 'hello')).metadata.generation ?? 0;

    // With the operator stopped, the status stays that of the good generation (Available): the script
    // must not take it for the verdict on the bad one, and runs into its timeout instead.
    await operator.stop();
    const early = await deploy(BAD, '4s');
    const bad = (await getHelloWorld(kc, namespace, 'hello')).metadata.generation ?? 0;
    expect(bad).toBeGreaterThan(good);
    expect((await getHelloWorld(kc, namespace, 'hello')).status?.phase).toBe('Available');
    expect(early.stdout).toContain(`the operator has not observed generation ${String(bad)} yet`);
    expect(early.stdout).toContain(
      `no verdict within 4s (generation ${String(bad)}, observed ${String(good)}`,
    );
    expect(early.code).toBe(2);

    operator = await startOperator({ env: { LEADER_ELECTION: 'false', WATCH_NAMESPACE: namespace } });
    const failed = await waitForVerdict([target(), '--generation', String(bad), '--timeout', '120s']);
    const hw = await getHelloWorld(kc, namespace, 'hello');
    const message = hw.status?.lastRollback?.message ?? '';
    expect(message).toContain('pullfail.invalid');
    expect(failed.stdout).toContain(`HelloWorld ${target()} RolledBack (ImagePullFailed)`);
    expect(failed.stdout).toContain(`rolled back from ${BAD} to ${GOOD}`);
    expect(failed.stdout).toContain(message);
    expect(failed.code).toBe(1);
    expect(failed.summary).toContain('` RolledBack ` (` ImagePullFailed `)');
    expect(failed.summary).toContain(`\n${message}\n`);

    // Deployed again, the failed image is not retried: the verdict stays, at once.
    const again = await deploy(BAD, '60s');
    expect(again.stdout).toContain(message);
    expect(again.code).toBe(1);
  }, 300_000);

  it('deploy.sh refuses an image reference that could write YAML, and an overlay without a HelloWorld', async () => {
    const review = join(repoRoot, 'deploy', 'overlays', 'review');
    const injected = await run('deploy/deploy.sh', [review, 'api:1"\n  - name: x', '10s']);
    expect(injected.stdout).toContain('not an image reference');
    expect(injected.code).toBe(3);

    const overlay = mkdtempSync(join(work, 'no-helloworld-'));
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace } };
    writeFileSync(join(overlay, 'settings.yaml'), stringify(configMap));
    writeFileSync(join(overlay, 'kustomization.yaml'), stringify({ resources: ['settings.yaml'] }));
    const empty = await run('deploy/deploy.sh', [overlay, GOOD, '10s']);
    expect(empty.stdout).toContain('holds no HelloWorld: nothing to wait for');
    expect(empty.code).toBe(4);
  }, 60_000);

  it('keeps a hostile status message in the summary’s code block and out of workflow commands', async () => {
    // A namespace no operator watches: the status is written here by hand, as anyone with access to the
    // status subresource could.
    const loose = await createTestNamespace('deploy-hostile');
    try {
      const generation = apply(render('review', loose, GOOD, SIMULATED));
      const hostile = '<img src=x onerror=alert(1)>\n```\n## All good\n::add-mask::x\n::error::forged';
      const status = {
        status: {
          observedGeneration: generation,
          phase: 'RolledBack',
          lastRollback: { reason: 'SmokeTestFailed', message: hostile, fromImage: BAD, toImage: GOOD },
        },
      };
      kubectl([
        'patch',
        'hw',
        'hello',
        '-n',
        loose,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify(status),
      ]);
      const run = await waitForVerdict([`${loose}/hello`, '--timeout', '30s'], { GITHUB_ACTIONS: 'true' });
      expect(run.code).toBe(1);
      const lines = run.stdout.split('\n');
      const token = /^::stop-commands::(\S+)$/.exec(lines[0] ?? '')?.[1] ?? 'none';
      const resumed = lines.indexOf(`::${token}::`);
      expect(lines.indexOf('::error::forged')).toBeGreaterThan(0);
      expect(lines.indexOf('::error::forged')).toBeLessThan(resumed);
      expect(lines[resumed + 1]).toMatch(/^::error title=HelloWorld .* RolledBack::SmokeTestFailed: <img/);
      const fence = /^(`{4,})text$/m.exec(run.summary)?.[1] ?? 'none';
      const inside = run.summary.split(`${fence}text\n`)[1]?.split(`\n${fence}\n`)[0];
      expect(inside).toBe(hostile);
      expect(run.summary.replace(`${fence}text\n${hostile}\n${fence}`, '')).not.toMatch(/<img|All good|::/);
    } finally {
      await deleteTestNamespace(loose);
    }
  }, 120_000);
});
