// Scenario 5: a bad revision (never ready, crash-looping, unpullable) ends RolledBack with the reason,
// and the previous revision runs again; the retry annotation rolls the failed revision out once more;
// a first deployment that fails has nothing to go back to and ends Failed.
import type { HelloWorldSpec } from '../../operator/src/crd/types.js';
import { metricValue } from '../support/operator.js';
import {
  applyYaml,
  eventReasons,
  eventually,
  helloWorld,
  jsonpath,
  kubectl,
  realPods,
  setUp,
  token,
  waitHelloWorld,
  type E2eContext,
} from './harness.js';

let ctx: E2eContext;

type Bad = 'unready' | 'crashloop' | 'pullfail';
const expectedReason: Record<Bad, string> = {
  unready: 'ProgressDeadlineExceeded',
  crashloop: 'CrashLooping',
  pullfail: 'ImagePullFailed',
};

/**
 * The spec change that makes a bad revision. On simulated nodes the image prefix selects the pods'
 * behaviour (hack/cluster/kwok-stages.yaml). With real pods: an unresolvable registry, a configuration
 * the API refuses at start (exit 1), and a Redis that never answers (/readyz stays 503).
 */
function badRevision(bad: Bad): Partial<HelloWorldSpec> {
  if (bad === 'pullfail') return { image: `pullfail.invalid/hello/api:2.0.0` };
  if (!realPods) return { image: `${bad}.invalid/hello/api:2.0.0` };
  return bad === 'crashloop'
    ? { env: [{ name: 'CHAOS_ERROR_RATE', value: 'not-a-number' }] }
    : { env: [{ name: 'REDIS_URL', value: 'redis://127.0.0.1:1/0' }] };
}

// Deadlines: long enough for a crash loop to reach its restart threshold (real kubelet back-off:
// about a minute), short enough that the never-ready revision fails quickly.
const rollout = { progressDeadlineSeconds: realPods ? 100 : 20 };
const bads: Bad[] = ['unready', 'crashloop', 'pullfail'];
/** The HelloWorld of each test, and the failure it gets: the retry test has one of its own. */
const broken: Record<string, Bad> = {
  unready: 'unready',
  crashloop: 'crashloop',
  pullfail: 'pullfail',
  retry: 'pullfail',
};
const stable: Record<string, { revision: string; image: string }> = {};

beforeAll(async () => {
  ctx = await setUp('rollback');
  // One HelloWorld per test, all rolled out to a good revision, then all broken at once.
  const names = Object.keys(broken);
  await applyYaml(ctx.namespace, ...names.map((name) => helloWorld(ctx.namespace, name, { rollout })));
  for (const name of names) {
    await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available', realPods ? 240 : 150);
    stable[name] = {
      revision: await jsonpath(ctx.namespace, `hw/${name}`, '{.status.stableRevision}'),
      image: await jsonpath(ctx.namespace, `deployment/${name}`, '{.spec.template.spec.containers[0].image}'),
    };
  }
  await applyYaml(
    ctx.namespace,
    ...names.map((name) => helloWorld(ctx.namespace, name, { rollout, ...badRevision(broken[name]!) })),
  );
}, 420_000);

afterAll(async () => {
  await ctx.cleanup();
}, 120_000);

const degradedReason = (name: string): Promise<string> =>
  jsonpath(ctx.namespace, `hw/${name}`, '{.status.conditions[?(@.type=="Degraded")].reason}');

describe.each(bads)('a %s revision', (bad) => {
  it(`is rolled back with reason ${expectedReason[bad]}, and the stable revision runs again`, async () => {
    await waitHelloWorld(ctx, bad, 'jsonpath={.status.phase}=RolledBack', realPods ? 240 : 150);
    expect(await degradedReason(bad)).toBe(expectedReason[bad]);
    const record = JSON.parse(await jsonpath(ctx.namespace, `hw/${bad}`, '{.status.lastRollback}')) as {
      reason: string;
      toRevision: string;
      toImage: string;
      message: string;
    };
    expect(record).toMatchObject({
      reason: expectedReason[bad],
      toRevision: stable[bad]!.revision,
      toImage: stable[bad]!.image,
    });
    expect(record.message).not.toBe('');

    // The rollback is a rolling update of its own: wait for it to finish, then look at the pods.
    await waitHelloWorld(ctx, bad, 'condition=Progressing=False', 120);
    expect(
      await jsonpath(ctx.namespace, `hw/${bad}`, '{.status.conditions[?(@.type=="Progressing")].reason}'),
    ).toBe('RolledBack');
    await waitHelloWorld(ctx, bad, 'condition=Available');
    expect(
      await jsonpath(
        ctx.namespace,
        `deployment/${bad}`,
        "{.spec.template.metadata.annotations['hello\\.dev/revision']}",
      ),
    ).toBe(stable[bad]!.revision);
    const selector = await jsonpath(ctx.namespace, `hw/${bad}`, '{.status.selector}');
    await eventually(ctx, bad, 'only pods of the stable revision, all ready', async () => {
      const pods = await kubectl([
        'get',
        'pods',
        '-n',
        ctx.namespace,
        '-l',
        selector,
        '-o',
        `jsonpath={range .items[*]}{.spec.containers[0].image} {.metadata.annotations['hello\\.dev/revision']} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}`,
      ]);
      const lines = pods.trim().split('\n');
      return (
        lines.length === 2 && lines.every((l) => l === `${stable[bad]!.image} ${stable[bad]!.revision} True`)
      );
    });

    const reasons = await eventReasons(ctx.namespace, bad);
    expect(reasons).toEqual(
      expect.arrayContaining(['RolloutStarted', expectedReason[bad], 'RollbackComplete']),
    );
  }, 300_000);
});

describe('the retry annotation', () => {
  it('rolls the failed revision out again, once per value', async () => {
    const name = 'retry';
    // Its first rollback, from the bad revision beforeAll applied, is over.
    await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=RolledBack', realPods ? 240 : 150);
    await waitHelloWorld(ctx, name, 'condition=Progressing=False', 120);
    const firstRollback = await jsonpath(ctx.namespace, `hw/${name}`, '{.status.lastRollback.time}');
    const rollbacksBefore = metricValue(await ctx.operator.metrics(), 'helloworld_rollbacks_total', {
      reason: 'ImagePullFailed',
    });
    const value = token();
    await kubectl(['annotate', 'hw', name, '-n', ctx.namespace, `hello.dev/retry=${value}`, '--overwrite']);
    await waitHelloWorld(ctx, name, `jsonpath={.status.observedRetry}=${value}`);
    await eventually(
      ctx,
      name,
      'a second rollback of the retried revision',
      async () => {
        const time = await jsonpath(ctx.namespace, `hw/${name}`, '{.status.lastRollback.time}');
        return (
          time !== firstRollback &&
          (await jsonpath(ctx.namespace, `hw/${name}`, '{.status.phase}')) === 'RolledBack'
        );
      },
      90_000,
    );
    expect(await eventReasons(ctx.namespace, name)).toContain('RetryRequested');
    const rollbacksAfter = metricValue(await ctx.operator.metrics(), 'helloworld_rollbacks_total', {
      reason: 'ImagePullFailed',
    });
    // The counter is the operator's, across every namespace it serves: at least this rollback.
    expect(rollbacksAfter - rollbacksBefore).toBeGreaterThanOrEqual(1);
  }, 180_000);
});

describe('a first deployment that fails', () => {
  it('ends Failed: there is no stable revision to go back to', async () => {
    const name = 'first';
    await applyYaml(ctx.namespace, helloWorld(ctx.namespace, name, { rollout, ...badRevision('pullfail') }));
    await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Failed');
    expect(await degradedReason(name)).toBe('ImagePullFailed');
    expect(await jsonpath(ctx.namespace, `hw/${name}`, '{.status.stableRevision}')).toBe('');
    expect(await jsonpath(ctx.namespace, `hw/${name}`, '{.status.failedRevision}')).toBe(
      await jsonpath(ctx.namespace, `hw/${name}`, '{.status.currentRevision}'),
    );
    expect(await eventReasons(ctx.namespace, name)).toContain('ImagePullFailed');
  }, 120_000);
});
