// Scenario 1: the CRD and the operator come up, and the sample HelloWorld from config/samples becomes
// Available with every child the operator owns.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { metricValue } from '../support/operator.js';
import {
  apiImage,
  applyYaml,
  exists,
  jsonpath,
  kubectl,
  leaderPod,
  operatorMode,
  realPods,
  repoRoot,
  setUp,
  systemNamespace,
  waitHelloWorld,
  type E2eContext,
} from './harness.js';

let ctx: E2eContext;
const name = 'hello';
/** The image the sample runs: its own, or on real pods the one `make e2e` built and loaded. */
const image = realPods ? apiImage : 'helloworld-api:dev';

beforeAll(async () => {
  ctx = await setUp('install');
}, 180_000);

afterAll(async () => {
  await ctx.cleanup();
}, 120_000);

/** The sample as shipped; on simulated nodes its verification is switched off (no HTTP reaches a pod). */
function sample(): Record<string, unknown> {
  const hw = parse(readFileSync(`${repoRoot}config/samples/hello_v1alpha1_helloworld.yaml`, 'utf8')) as {
    metadata: { name: string; namespace?: string };
    spec: { image: string; rollout: Record<string, unknown>; redis?: Record<string, unknown> };
  };
  hw.metadata.namespace = ctx.namespace;
  if (realPods) hw.spec.image = apiImage;
  // Where no registry serves the default Redis image (the local real node), the one loaded there.
  const redisImage = process.env.E2E_REDIS_IMAGE;
  if (realPods && redisImage !== undefined) hw.spec.redis = { ...hw.spec.redis, image: redisImage };
  if (!realPods)
    hw.spec.rollout = { ...hw.spec.rollout, progressDeadlineSeconds: 30, verification: { enabled: false } };
  return hw;
}

it('serves the HelloWorld CRD, with its short name and printer columns', async () => {
  expect(
    await jsonpath('', 'crd/helloworlds.hello.dev', '{.status.conditions[?(@.type=="Established")].status}'),
  ).toBe('True');
  const resources = await kubectl(['api-resources', '--api-group=hello.dev', '-o', 'wide']);
  expect(resources).toMatch(/helloworlds\s+hw\s+hello\.dev\/v1alpha1\s+true\s+HelloWorld/);
}, 60_000);

it('runs the operator', async () => {
  if (operatorMode === 'in-cluster') {
    expect(await jsonpath(systemNamespace, 'deployment/helloworld-operator', '{.status.readyReplicas}')).toBe(
      '2',
    );
    expect(await leaderPod()).toMatch(/^helloworld-operator-/);
  } else {
    expect(metricValue(await ctx.operator.metrics(), 'helloworld_leader')).toBe(1);
  }
}, 60_000);

it('makes the sample HelloWorld Available', async () => {
  await applyYaml(ctx.namespace, sample());
  await waitHelloWorld(ctx, name, 'condition=Available', realPods ? 240 : 150);
  await waitHelloWorld(ctx, name, 'jsonpath={.status.phase}=Available', realPods ? 240 : 150);
  const columns = await kubectl(['get', 'hw', name, '-n', ctx.namespace]);
  expect(columns).toMatch(/NAME\s+IMAGE\s+RUNNING\s+DESIRED\s+READY\s+PHASE\s+REASON/);
  // Verified: the image asked for is the one that runs.
  expect(columns).toMatch(new RegExp(`hello\\s+${image}\\s+${image}\\s+2\\s+2\\s+Available`));
}, 300_000);

it('owns every child: Deployment, Service, PDB and the managed Redis', async () => {
  const uid = await jsonpath(ctx.namespace, `hw/${name}`, '{.metadata.uid}');
  const children = [
    `deployment/${name}`,
    `service/${name}`,
    `poddisruptionbudget/${name}`,
    `statefulset/${name}-redis`,
    `service/${name}-redis`,
    `secret/${name}-redis-auth`,
    `networkpolicy/${name}-redis`,
  ];
  for (const child of children) {
    const owner = await jsonpath(
      ctx.namespace,
      child,
      '{.metadata.ownerReferences[?(@.controller==true)].uid}',
    );
    expect({ child, owner }).toEqual({ child, owner: uid });
  }
  // No autoscaling in the sample: replicas belong to the Deployment, no HPA.
  expect(await exists(ctx.namespace, `horizontalpodautoscaler/${name}`)).toBe(false);

  const deployment = `deployment/${name}`;
  expect(await jsonpath(ctx.namespace, deployment, '{.spec.replicas}')).toBe('2');
  expect(await jsonpath(ctx.namespace, deployment, '{.spec.template.spec.containers[0].image}')).toBe(image);
  expect(await jsonpath(ctx.namespace, deployment, '{.spec.strategy.rollingUpdate.maxUnavailable}')).toBe(
    '0',
  );
  expect(await jsonpath(ctx.namespace, deployment, '{.status.readyReplicas}')).toBe('2');
  expect(await jsonpath(ctx.namespace, `service/${name}`, '{.spec.type} {.spec.ports[0].port}')).toBe(
    'ClusterIP 80',
  );
  expect(await jsonpath(ctx.namespace, `pdb/${name}`, '{.spec.minAvailable}')).toBe('1');
  expect(await jsonpath(ctx.namespace, `statefulset/${name}-redis`, '{.spec.replicas}')).toBe('1');
  expect(
    await jsonpath(
      ctx.namespace,
      `statefulset/${name}-redis`,
      '{.spec.volumeClaimTemplates[0].spec.resources.requests.storage}',
    ),
  ).toBe('1Gi');
  // The pods spread over zones: the operator's topology spread constraints.
  const zones = await jsonpath(
    ctx.namespace,
    deployment,
    '{.spec.template.spec.topologySpreadConstraints[*].topologyKey}',
  );
  expect(zones).toContain('topology.kubernetes.io/zone');
}, 60_000);

it('tells the story in status and events', async () => {
  const status = JSON.parse(await jsonpath(ctx.namespace, `hw/${name}`, '{.status}')) as {
    currentRevision: string;
    stableRevision: string;
    readyReplicas: number;
  };
  expect(status.currentRevision).toBe(status.stableRevision);
  expect(status.readyReplicas).toBe(2);
  const describe = await kubectl(['describe', 'hw', name, '-n', ctx.namespace]);
  expect(describe).toContain('RolloutSucceeded');
}, 60_000);
