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
    '{"spec":{"ports":[{"name":"http","port":8888}]}}',
  ]);
  await kubectl(['annotate', 'deployment', name, '-n', ctx.namespace, 'example.com/owner=team-a']);
  await eventually(
    ctx,
    name,
    'the edited Deployment and Service to be restored',
    async () =>
      (await jsonpath(ctx.namespace, `deployment/${name}`, '{.spec.progressDeadlineSeconds}')) !== '999' &&
      (await jsonpath(ctx.namespace, `service/${name}`, '{.spec.ports[*].port}')) === '80',
  );
  expect(
    await jsonpath(ctx.namespace, `deployment/${name}`, "{.metadata.annotations['example\\.com/owner']}"),
  ).toBe('team-a');
}, 120_000);

it('makes no write in a steady state', async () => {
  const writes = async (): Promise<number> =>
    metricValue(await ctx.operator.metrics(), 'helloworld_kube_writes_total');
  // Let the repairs above settle (status included), then watch a quiet period.
  await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available');
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const before = await writes();
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  const after = await writes();
  expect({
    writesDuringQuietPeriod: after - before,
    operatorLog: after === before ? '' : await ctx.operator.tail(20),
  }).toEqual({
    writesDuringQuietPeriod: 0,
    operatorLog: '',
  });
}, 90_000);
