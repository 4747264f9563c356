// Scenario 8: deleting a HelloWorld removes its children; the Redis volume claim goes with them only
// when `redis.storage.whenDeleted: Delete` says so (the default, Retain, keeps the data).
import {
  applyYaml,
  eventually,
  exists,
  helloWorld,
  jsonpath,
  kubectl,
  realPods,
  setUp,
  waitHelloWorld,
  type E2eContext,
} from './harness.js';

let ctx: E2eContext;

beforeAll(async () => {
  ctx = await setUp('delete');
}, 180_000);

afterAll(async () => {
  await ctx.cleanup();
}, 120_000);

const children = (name: string): string[] => [
  `deployment/${name}`,
  `service/${name}`,
  `poddisruptionbudget/${name}`,
  `horizontalpodautoscaler/${name}`,
  `statefulset/${name}-redis`,
  `service/${name}-redis`,
  `secret/${name}-redis-auth`,
  `networkpolicy/${name}-redis`,
];

const remaining = async (targets: string[]): Promise<string[]> => {
  const present = await Promise.all(targets.map(async (t) => ((await exists(ctx.namespace, t)) ? t : '')));
  return present.filter((t) => t !== '');
};

const claim = (name: string): string => `persistentvolumeclaim/data-${name}-redis-0`;

describe.each([
  ['Retain', false],
  ['Delete', true],
] as const)('with whenDeleted: %s', (whenDeleted, claimDeleted) => {
  const name = `gone-${whenDeleted.toLowerCase()}`;

  it(`removes every child and ${claimDeleted ? 'deletes' : 'keeps'} the Redis volume claim`, async () => {
    await applyYaml(
      ctx.namespace,
      helloWorld(ctx.namespace, name, {
        autoscaling: { minReplicas: 2, maxReplicas: 3 },
        redis: { storage: { size: '1Gi', whenDeleted } },
      }),
    );
    await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available', realPods ? 240 : 150);
    await eventually(
      ctx,
      name,
      `every child of hw/${name}, and the Redis claim`,
      async () => (await remaining([...children(name), claim(name)])).length === 9,
    );
    expect(
      await jsonpath(
        ctx.namespace,
        `statefulset/${name}-redis`,
        '{.spec.persistentVolumeClaimRetentionPolicy.whenDeleted}',
      ),
    ).toBe(whenDeleted);

    await kubectl(['delete', 'hw', name, '-n', ctx.namespace, '--wait=true', '--timeout=60s']);
    const left = await eventually(
      ctx,
      name,
      `the children of hw/${name} to be garbage-collected`,
      async () => {
        const rest = await remaining(children(name));
        return rest.length === 0 ? rest : false;
      },
      90_000,
    );
    expect(left).toEqual([]);
    if (claimDeleted) {
      await eventually(
        ctx,
        name,
        `${claim(name)} to be deleted with its StatefulSet`,
        async () => !(await exists(ctx.namespace, claim(name))),
        90_000,
      );
    } else {
      // Give the garbage collector the time it took for the children, then check the claim is still there.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(await exists(ctx.namespace, claim(name))).toBe(true);
    }
  }, 360_000);
});
