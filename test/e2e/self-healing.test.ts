// Scenario 4: a deleted or hand-edited child comes back as the HelloWorld says, and once everything
// matches, the operator writes nothing.
import { metricValue } from '../support/operator.js';
import {
  applyYaml,
  eventually,
  exists,
  helloWorld,
  jsonpath,
  kubectl,
  setUp,
  waitHelloWorld,
  type E2eContext,
} from './harness.js';

let ctx: E2eContext;
const name = 'healing';

beforeAll(async () => {
  ctx = await setUp('healing');
  await applyYaml(ctx.namespace, helloWorld(ctx.namespace, name, { replicas: 2 }));
  await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available');
}, 240_000);

afterAll(async () => {
  await ctx.cleanup();
}, 120_000);

it('recreates a deleted Service and Deployment', async () => {
  const oldUid = await jsonpath(ctx.namespace, `service/${name}`, '{.metadata.uid}');
  await kubectl(['delete', 'service', name, '-n', ctx.namespace, '--wait=true']);
  await eventually(ctx, name, 'the deleted Service to come back', async () => {
    const uid = await jsonpath(ctx.namespace, `service/${name}`, '{.metadata.uid}');
    return uid !== '' && uid !== oldUid;
  });

  await kubectl(['delete', 'deployment', name, '-n', ctx.namespace, '--wait=true']);
  await eventually(ctx, name, 'the deleted Deployment to come back', () =>
    exists(ctx.namespace, `deployment/${name}`),
  );
  await waitHelloWorld(ctx, name, 'jsonpath={.status.readyReplicas}=2');
}, 150_000);

it('undoes hand edits of the fields it owns, and leaves foreign ones alone', async () => {
  await kubectl([
    'patch',
    'deployment',
    name,
    '-n',
    ctx.namespace,
    '--type=merge',
    '-p',
    '{"spec":{"progressDeadlineSeconds":999}}',
  ]);
  await kubectl([
    'patch',
    'service',
    name,
    '-n',
    ctx.namespace,
    '--type=merge',
    '-p',
    '{"spec":{"selector":{"app.kubernetes.io/instance":"someone-else"}}}',
  ]);
  await kubectl(['annotate', 'deployment', name, '-n', ctx.namespace, 'example.com/owner=team-a']);
  await eventually(
    ctx,
    name,
    'the edited Deployment and Service to be restored',
    async () =>
      (await jsonpath(ctx.namespace, `deployment/${name}`, '{.spec.progressDeadlineSeconds}')) !== '999' &&
      (await jsonpath(
        ctx.namespace,
        `service/${name}`,
        "{.spec.selector['app\\.kubernetes\\.io/instance']}",
      )) === name,
  );
  expect(
    await jsonpath(ctx.namespace, `deployment/${name}`, "{.metadata.annotations['example\\.com/owner']}"),
  ).toBe('team-a');
}, 120_000);

// What a user can observe of "no writes": nobody writes what the operator manages. (The operator watches
// every namespace, so its write counter also moves for HelloWorlds of other suites sharing the
// cluster; test/integration/operator.test.ts checks the counter on a cluster of its own.) Compared by
// who wrote each object and when, not by resourceVersion: Kubernetes' own controllers keep writing the
// children's status (the disruption controller rewrites a PDB's), which is not the operator's doing.
// Only the operator writes a HelloWorld's status, so there its status entries count too.
const managed = 'helloworld,deployment,service,poddisruptionbudget,statefulset,secret,networkpolicy';
interface Written {
  kind: string;
  metadata: {
    name: string;
    managedFields?: { manager?: string; operation?: string; subresource?: string; time?: string }[];
  };
}
const versions = async (): Promise<string[]> => {
  const list = JSON.parse(
    await kubectl(['get', managed, '-n', ctx.namespace, '-o', 'json', '--show-managed-fields']),
  ) as { items: Written[] };
  return list.items.map((o) => {
    const writes = (o.metadata.managedFields ?? [])
      .filter((entry) => entry.subresource === undefined || o.kind === 'HelloWorld')
      .map(
        (entry) =>
          `${entry.manager ?? ''} ${entry.operation ?? ''} ${entry.subresource ?? ''} ${entry.time ?? ''}`,
      );
    return `${o.kind}/${o.metadata.name}: ${writes.join(', ')}`;
  });
};

it('makes no write in a steady state', async () => {
  // Let the repairs above settle (status included), then watch a quiet period.
  await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available');
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const before = await versions();
  const writesBefore = metricValue(await ctx.operator.metrics(), 'helloworld_kube_writes_total');
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  const after = await versions();
  const writes = metricValue(await ctx.operator.metrics(), 'helloworld_kube_writes_total') - writesBefore;
  console.log(`e2e healing: ${String(writes)} operator writes cluster-wide during the quiet period`);
  expect(after).toEqual(before);
  expect(before).toHaveLength(8);
}, 90_000);
