// `kubectl hw` (docs/kubectl-plugin.md) on the local cluster, run as the built executable in a child process
// (test/support/kubectl-hw.ts): what status and history print, from a status the test writes itself
// through the status subresource. The plugin's contract is the status, so each case (a hostile status too)
// is set up exactly, and no operator runs in the namespace to overwrite it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, waitFor } from '../support/cluster.js';
import {
  condition,
  history,
  pluginNamespace,
  rolledBack,
  T,
  type PluginNamespace,
} from '../support/kubectl-hw.js';
import { kubectl } from '../support/operator.js';

let ns: PluginNamespace;

beforeAll(async () => {
  ns = await pluginNamespace('kubectl-hw');
}, 180_000);

afterAll(() => ns.cleanup(), 60_000);

describe('the npm package', () => {
  it('ships the built kubectl-hw and what it imports, without sources', () => {
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json'], { cwd: repoRoot, encoding: 'utf8' });
    expect(packed.status).toBe(0);
    const [pack] = JSON.parse(packed.stdout) as { files: { path: string }[] }[];
    const files = (pack?.files ?? []).map((f) => f.path);
    for (const needed of [
      'dist/operator/kubectl-hw/main.js',
      'dist/operator/runtime/rest.js',
      'dist/common/env.js',
    ]) {
      expect(files).toContain(needed);
    }
    expect(files.filter((f) => f.endsWith('.ts') || f.endsWith('.map') || f.startsWith('test/'))).toEqual([]);
  }, 60_000);
});

describe('kubectl hw status and history', () => {
  it('prints the phase, the pods, the rollback and the conditions needing attention; -o json too', async () => {
    await ns.created('shown', rolledBack);
    const text = ns.hw(ns.inNs('status', 'shown'));
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain(`HelloWorld:  ${ns.namespace}/shown\nPhase:       RolledBack\n`);
    expect(text.stdout).toContain('Pods:        3/3 ready, 3 updated; revision a1a1a1a1a1\n');
    expect(text.stdout).toContain(`Last rollback: ${T(12)} hello/api:2.0.0 -> hello/api:1.0.0\n`);
    expect(text.stdout).toContain(
      'Conditions needing attention:\n  Degraded=True SmokeTestFailed: smoke check',
    );
    expect(text.stdout).not.toContain('Available=True');

    const json = ns.hw(ns.inNs('status', 'shown', '-o', 'json'));
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      name: 'shown',
      namespace: ns.namespace,
      generation: 1,
      observedGeneration: 1,
      phase: 'RolledBack',
      lastRollback: rolledBack.lastRollback,
      history,
    });
  }, 60_000);

  it('prints status.history as a table and as JSON', async () => {
    await ns.created('history', rolledBack);
    const table = ns.hw(ns.inNs('history', 'history'));
    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^REVISION +IMAGE +OUTCOME +REASON +STARTED +ENDED +SUMMARY$/),
      expect.stringMatching(
        /^b2b2b2b2b2 +hello\/api:2\.0\.0 +RolledBack +SmokeTestFailed .* smoke check hello/,
      ),
      expect.stringMatching(
        /^a1a1a1a1a1 +hello\/api:1\.0\.0 +Promoted +RolloutSucceeded .* passed: 5xx 0\.0%/,
      ),
    ]);
    expect(JSON.parse(ns.hw(ns.inNs('history', 'history', '-o', 'json')).stdout)).toEqual(history);
  }, 60_000);

  it('reads the namespace of the kubeconfig context, from KUBECONFIG, when -n is not given', async () => {
    await ns.created('in-context', rolledBack);
    const dir = mkdtempSync(join(tmpdir(), 'kubectl-hw-kubeconfig-'));
    try {
      const path = join(dir, 'config');
      writeFileSync(path, kubectl(['config', 'view', '--raw', '--minify', '--flatten']));
      const context = kubectl(['--kubeconfig', path, 'config', 'current-context']).trim();
      spawnSync('kubectl', [
        '--kubeconfig',
        path,
        'config',
        'set-context',
        context,
        `--namespace=${ns.namespace}`,
      ]);
      const run = ns.hw(['status', 'in-context'], { KUBECONFIG: path });
      expect(run).toMatchObject({ code: 0, stderr: '' });
      expect(run.stdout).toContain(`HelloWorld:  ${ns.namespace}/in-context`);
      const other = ns.hw(['status', 'in-context', '--context', 'no-such-context'], { KUBECONFIG: path });
      expect(other).toMatchObject({
        code: 1,
        stderr: 'error: the kubeconfig has no context "no-such-context"\n',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('says plainly when the HelloWorld does not exist, and refuses a bad name before any request', () => {
    expect(ns.hw(ns.inNs('status', 'absent'))).toMatchObject({
      code: 1,
      stderr: `error: helloworld absent not found in namespace ${ns.namespace}\n`,
    });
    // No kubeconfig at all: a name check that came after the first request would fail differently.
    const bad = ns.hw(['status', '../../../api/v1/secrets', '--kubeconfig', '/nonexistent']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('error: NAME "../../../api/v1/secrets" is not valid');
  }, 60_000);

  it('keeps a hostile status from steering the terminal', async () => {
    const hostile = 'bad \u001b[2J\u001b[H\u001b]0;owned\u0007news\u001b[31m red \u202eevil\r\nline';
    await ns.created('hostile', {
      ...rolledBack,
      lastRollback: { ...rolledBack.lastRollback, message: `${hostile} ${'x'.repeat(30_000)}` },
      conditions: [condition('Degraded', 'True', 'SmokeTestFailed', hostile)],
      history: [{ ...history[0], summary: hostile }],
    });
    for (const args of [ns.inNs('status', 'hostile'), ns.inNs('history', 'hostile')]) {
      const run = ns.hw(args);
      expect(run.code).toBe(0);
      for (const ch of ['\u001b', '\u0007', '\u009b', '\u202e', '\r']) expect(run.stdout).not.toContain(ch);
      expect(run.stdout.length).toBeLessThan(5000);
    }
    // JSON stays lossless, with what a terminal acts on escaped.
    const json = ns.hw(ns.inNs('status', 'hostile', '-o', 'json')).stdout;
    for (const ch of ['\u001b', '\u0007', '\u009b', '\u202e', '\r']) expect(json).not.toContain(ch);
    expect((JSON.parse(json) as { conditions: { message: string }[] }).conditions[0]?.message).toBe(hostile);
    expect(ns.hw(ns.inNs('status', 'hostile')).stdout).toContain(
      'Degraded=True SmokeTestFailed: bad news red evil line',
    );
  }, 60_000);

  it('redraws on every change with -w and ends on Ctrl-C', async () => {
    await ns.created('watched', { ...rolledBack, phase: 'Progressing' });
    const watch = ns.hwAsync(ns.inNs('status', 'watched', '-w'));
    await waitFor(() => watch.output().includes('Phase:       Progressing'), {
      describe: 'the first drawing',
      timeoutMs: 30_000,
    });
    ns.writeStatus('watched', { phase: 'Available', lastRollback: null });
    await waitFor(() => watch.output().includes('Phase:       Available'), {
      describe: 'a redraw after the status changed',
      timeoutMs: 30_000,
    });
    watch.interrupt();
    expect((await watch.done).code).toBe(0);
  }, 90_000);
});
