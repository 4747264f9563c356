// Scenario 2: invalid HelloWorlds are rejected when applied, and kubectl shows the user why. The full
// table of rules is in test/integration/crd-validation.test.ts; this is what a user sees at the
// command line for the mistakes most likely to be made.
import { stringify } from 'yaml';
import { exists, run, setUp, type E2eContext } from './harness.js';

let ctx: E2eContext;

beforeAll(async () => {
  ctx = await setUp('admission');
}, 180_000);

afterAll(async () => {
  await ctx.cleanup();
}, 120_000);

const cases: [what: string, spec: Record<string, unknown>, message: string][] = [
  ['no image', { replicas: 2 }, 'spec.image: Required value'],
  ['an image with whitespace', { image: 'hello api:1' }, 'spec.image must not contain whitespace'],
  ['negative replicas', { image: 'hello/api:1', replicas: -1 }, 'should be greater than or equal to 0'],
  [
    'minReplicas above maxReplicas',
    { image: 'hello/api:1', autoscaling: { minReplicas: 5, maxReplicas: 3 } },
    'autoscaling.minReplicas must be ≤ maxReplicas',
  ],
  [
    'a rollout that can never move',
    { image: 'hello/api:1', rollout: { maxSurge: 0, maxUnavailable: 0 } },
    'rollout.maxSurge and rollout.maxUnavailable must not both be zero',
  ],
  [
    'a disruption budget with both fields',
    { image: 'hello/api:1', disruptionBudget: { minAvailable: 1, maxUnavailable: 1 } },
    'disruptionBudget must set exactly one of minAvailable or maxUnavailable',
  ],
  [
    'an external Redis without its Secret',
    { image: 'hello/api:1', redis: { mode: 'External' } },
    'redis.urlSecretRef is required when redis.mode is External',
  ],
  [
    'an error rate above 100%',
    { image: 'hello/api:1', rollout: { verification: { analysis: { maxErrorRate: 1.5 } } } },
    'maxErrorRate in body should be less than or equal to 1',
  ],
  [
    'a pod label the operator selects by',
    { image: 'hello/api:1', podLabels: { 'app.kubernetes.io/instance': 'other' } },
    'podLabels must not set app.kubernetes.io/name',
  ],
];

it.each(cases)(
  'rejects %s with its message',
  async (_what, spec, message) => {
    const name = `bad-${String(cases.findIndex((c) => c[1] === spec))}`;
    const manifest = stringify({
      apiVersion: 'hello.dev/v1alpha1',
      kind: 'HelloWorld',
      metadata: { name },
      spec,
    });
    const result = await run(['apply', '-n', ctx.namespace, '-f', '-'], manifest);
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 1, stdout: '' });
    expect(result.stderr).toContain('is invalid');
    expect(result.stderr).toContain(message);
    expect(await exists(ctx.namespace, `hw/${name}`)).toBe(false);
  },
  60_000,
);

it('accepts a minimal HelloWorld', async () => {
  const manifest = stringify({
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name: 'minimal' },
    spec: { image: 'hello/api:1' },
  });
  const result = await run(['apply', '--dry-run=server', '-n', ctx.namespace, '-f', '-'], manifest);
  expect(result.stderr).toBe('');
  expect(result.stdout).toContain('helloworld.hello.dev/minimal created (server dry run)');
}, 60_000);
