// Scenario 3: `kubectl scale hw` reaches the Deployment; autoscaling on creates an HPA whose bounds
// hold, off removes it; with real pods, CPU load scales the API out.
import {
  applyYaml,
  describeRealPods,
  eventually,
  exists,
  helloWorld,
  jsonpath,
  kubectl,
  setUp,
  waitHelloWorld,
  type E2eContext,
} from './harness.js';
import { startLoad } from './load.js';

let ctx: E2eContext;

beforeAll(async () => {
  ctx = await setUp('scale');
}, 180_000);

afterAll(async () => {
  await ctx.cleanup();
}, 120_000);

const replicasOf = (name: string): Promise<string> =>
  jsonpath(ctx.namespace, `deployment/${name}`, '{.spec.replicas}');

describe('kubectl scale', () => {
  const name = 'scaled';

  it('changes the Deployment and the ready count in status', async () => {
    await applyYaml(ctx.namespace, helloWorld(ctx.namespace, name, { replicas: 2 }));
    await waitHelloWorld(ctx, name, 'condition=Available');
    await kubectl(['scale', 'hw', name, '-n', ctx.namespace, '--replicas=3']);
    expect(await jsonpath(ctx.namespace, `hw/${name}`, '{.spec.replicas}')).toBe('3');
    await eventually(
      ctx,
      name,
      'the Deployment to have 3 replicas',
      async () => (await replicasOf(name)) === '3',
    );
    await waitHelloWorld(ctx, name, 'jsonpath={.status.readyReplicas}=3');
  }, 300_000);
});

describe('autoscaling', () => {
  const name = 'auto';

  /** The HelloWorld with autoscaling on, and its HPA there (each test starts from it). */
  async function autoscaled(): Promise<void> {
    await applyYaml(
      ctx.namespace,
      helloWorld(ctx.namespace, name, {
        autoscaling: { minReplicas: 3, maxReplicas: 4, targetCPUUtilizationPercentage: 60 },
      }),
    );
    await eventually(ctx, name, `hpa/${name} to exist`, () => exists(ctx.namespace, `hpa/${name}`));
  }

  it('creates an HPA with the spec bounds, which the HPA enforces on the Deployment', async () => {
    await autoscaled();
    expect(
      await jsonpath(
        ctx.namespace,
        `hpa/${name}`,
        '{.spec.minReplicas} {.spec.maxReplicas} {.spec.scaleTargetRef.kind}/{.spec.scaleTargetRef.name}',
      ),
    ).toBe(`3 4 Deployment/${name}`);
    // Below minReplicas or above maxReplicas the HPA corrects the count without needing any metric.
    await eventually(
      ctx,
      name,
      'the HPA to raise the Deployment to minReplicas 3',
      async () => (await replicasOf(name)) === '3',
      90_000,
    );
    await kubectl(['scale', 'deployment', name, '-n', ctx.namespace, '--replicas=7']);
    await eventually(
      ctx,
      name,
      'the HPA to bring the Deployment back to maxReplicas 4',
      async () => (await replicasOf(name)) === '4',
      90_000,
    );
    await waitHelloWorld(ctx, name, 'condition=Available');
  }, 360_000);

  it('removes the HPA when autoscaling is switched off, and the spec replicas apply again', async () => {
    await autoscaled();
    await applyYaml(ctx.namespace, helloWorld(ctx.namespace, name, { replicas: 2 }));
    await eventually(
      ctx,
      name,
      `hpa/${name} to be removed`,
      async () => !(await exists(ctx.namespace, `hpa/${name}`)),
    );
    await eventually(
      ctx,
      name,
      'the Deployment to have the spec replicas, 2',
      async () => (await replicasOf(name)) === '2',
    );
  }, 300_000);
});

describeRealPods('autoscaling on CPU (real pods)', (realIt) => {
  const name = 'cpu';

  realIt(
    'scales out under load, within maxReplicas',
    async () => {
      await applyYaml(
        ctx.namespace,
        helloWorld(ctx.namespace, name, {
          autoscaling: { minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 20 },
          resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { memory: '256Mi' } },
        }),
      );
      await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available', 240);
      const load = await startLoad(ctx, { service: name, seconds: 240, concurrency: 8 });
      await eventually(
        ctx,
        name,
        'the HPA to scale the Deployment out on CPU',
        async () => Number(await jsonpath(ctx.namespace, `hpa/${name}`, '{.status.desiredReplicas}')) > 1,
        240_000,
      );
      expect(Number(await replicasOf(name))).toBeLessThanOrEqual(3);
      await load.stop();
    },
    600_000,
  );
});
