/**
 * Reconcile one HelloWorld: read everything, build the desired children, apply only what differs, let
 * the rollout state machine judge the rollout, then persist status once. Level-triggered: the same
 * function runs for every event and for every requeue, and it never branches on what happened.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { KubernetesObject, V1Deployment, V1PodTemplateSpec, V1Secret } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from '#common/logger.js';
import { resolveSpec, type ResolvedSpec } from '../api/defaults.js';
import type { HelloWorld, HelloWorldStatus } from '../api/types.js';
import { buildPodTemplate, desiredState } from '../builders/index.js';
import { redisSecretName, selectorLabels, selectorString } from '../builders/meta.js';
import { REVISION_ANNOTATION } from '../rollout/revision.js';
import { chooseTemplate, progressRollout } from '../rollout/machine.js';
import { setCondition } from '../rollout/conditions.js';
import { needsApply, withDesiredHash } from '../runtime/apply-diff.js';
import type { Verifier } from '../verification/types.js';
import type { ChildRef, ClusterReader, ClusterWriter, EventSink } from './ports.js';

export interface ReconcileDeps {
  reader: ClusterReader;
  writer: ClusterWriter;
  events: EventSink;
  verifier: Verifier;
  now: () => Date;
  log: Logger;
  onRollback?: (reason: string) => void;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** How often a HelloWorld waiting on something outside the operator (a user's Secret) is looked at again. */
const WAITING_REQUEUE_MS = 30_000;

export async function reconcile(deps: ReconcileDeps, namespace: string, name: string): Promise<ReconcileResult> {
  const hw = deps.reader.getHelloWorld(namespace, name);
  // Gone or going: owner references let the garbage collector remove the children.
  if (!hw || hw.metadata.deletionTimestamp) return {};
  const log = deps.log.child({ helloworld: `${namespace}/${name}` });
  const spec = resolveSpec(hw.spec);
  const now = deps.now();

  const redis = await redisConfig(deps.reader, hw, spec);
  if ('missing' in redis) {
    await waitForUserSecret(deps, hw, redis.missing, now);
    return { requeueAfterMs: WAITING_REQUEUE_MS };
  }

  const specTemplate = buildPodTemplate(hw, spec, redis.checksum);
  const specRevision = revisionOfTemplate(specTemplate);
  const annotations = hw.metadata.annotations ?? {};
  const previous = hw.status ?? {};
  const choice = chooseTemplate({
    status: previous,
    specRevision,
    annotations,
    autoRollback: spec.rollout.autoRollback,
  });
  const template = choice.use === 'stable' ? (stableTemplate(deps.reader, hw, choice.revision) ?? specTemplate) : specTemplate;

  const desired = desiredState(hw, spec, { template, redisPassword: redis.password });
  const applied = new Map<string, KubernetesObject>();
  for (const obj of desired.apply) {
    applied.set(obj.kind ?? '', await applyIfChanged(deps, log, obj));
  }
  for (const gone of desired.absent) {
    const ref: ChildRef = { ...gone, namespace };
    if (deps.reader.getChild(ref)) {
      log.info({ kind: gone.kind, name: gone.name }, 'deleting child no longer wanted');
      await deps.writer.delete(ref);
    }
  }

  const deployment = applied.get('Deployment') as V1Deployment | undefined;
  const pods = deps.reader.listPods(namespace, selectorLabels(hw, 'api'));
  const decision = await progressRollout({
    now,
    generation: hw.metadata.generation ?? 0,
    annotations,
    status: previous,
    spec,
    specRevision,
    appliedRevision: revisionOfTemplate(template),
    specImage: spec.image,
    deployment,
    pods,
    verifier: deps.verifier,
  });

  for (const event of decision.events) deps.events.record(hw, event.type, event.reason, event.message);
  if (decision.rollback) {
    log.warn({ reason: decision.rollback.reason }, 'rolling back to the stable revision');
    deps.onRollback?.(decision.rollback.reason);
  }

  const status: HelloWorldStatus = {
    ...decision.status,
    observedGeneration: hw.metadata.generation ?? 0,
    replicas: deployment?.status?.replicas ?? 0,
    readyReplicas: deployment?.status?.readyReplicas ?? 0,
    updatedReplicas: deployment?.status?.updatedReplicas ?? 0,
    selector: selectorString(selectorLabels(hw, 'api')),
  };
  await persistStatus(deps, hw, status);

  if (decision.templateChanged) return { requeueAfterMs: 0 };
  return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
}

/** Stamps the desired hash, compares with the cached object, and writes only when they differ. */
async function applyIfChanged(deps: ReconcileDeps, log: Logger, obj: KubernetesObject): Promise<KubernetesObject> {
  const desired = withDesiredHash(obj);
  const ref = refOf(desired);
  const live = deps.reader.getChild(ref);
  if (live && !needsApply(desired, live)) return live;
  log.info({ kind: ref.kind, name: ref.name, created: !live }, live ? 'updating child' : 'creating child');
  return deps.writer.apply(desired);
}

async function persistStatus(deps: ReconcileDeps, hw: HelloWorld, status: HelloWorldStatus): Promise<void> {
  if (isDeepStrictEqual(normalize(hw.status ?? {}), normalize(status))) return;
  await deps.writer.patchStatus(hw, status);
}

/** Drops undefined members, which the API server never stores, so comparisons see only real values. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value)) as unknown;
}

function refOf(obj: KubernetesObject): ChildRef {
  return {
    apiVersion: obj.apiVersion ?? '',
    kind: obj.kind ?? '',
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
  };
}

function revisionOfTemplate(template: V1PodTemplateSpec): string {
  return template.metadata?.annotations?.[REVISION_ANNOTATION] ?? '';
}

/** The stable revision's pod template, from the Deployment's ReplicaSet history (like `rollout undo`). */
function stableTemplate(reader: ClusterReader, hw: HelloWorld, revision: string): V1PodTemplateSpec | undefined {
  const sets = reader.listReplicaSets(hw.metadata.namespace, selectorLabels(hw, 'api'));
  const match = sets.find((rs) => rs.spec?.template?.metadata?.annotations?.[REVISION_ANNOTATION] === revision);
  const template = match?.spec?.template;
  if (!template) return undefined;
  // The Deployment controller adds pod-template-hash itself; carrying it over would change the hash.
  const labels = Object.fromEntries(
    Object.entries(template.metadata?.labels ?? {}).filter(([key]) => key !== 'pod-template-hash'),
  );
  return { ...template, metadata: { ...template.metadata, labels } };
}

type RedisConfig = { password: string; checksum: string } | { missing: string };

/**
 * The facts about Redis the pods depend on. Managed: the generated password, kept from the existing
 * Secret. External: the user's Secret must hold a redis:// or rediss:// URL under the named key.
 * The checksum covers what the pods read, so a changed Secret rolls them.
 */
async function redisConfig(reader: ClusterReader, hw: HelloWorld, spec: ResolvedSpec): Promise<RedisConfig> {
  const { namespace } = hw.metadata;
  if (spec.redis.mode === 'Managed') {
    const existing = reader.getChild({ apiVersion: 'v1', kind: 'Secret', namespace, name: redisSecretName(hw) }) as
      | V1Secret
      | undefined;
    const stored = existing?.data?.password;
    const password = stored ? Buffer.from(stored, 'base64').toString('utf8') : randomBytes(24).toString('base64url');
    return { password, checksum: sha256(password) };
  }
  const { name, key } = spec.redis.urlSecretRef;
  const secret = await reader.readUserSecret(namespace, name);
  const encoded = secret?.data?.[key];
  if (!secret) return { missing: `Secret ${name} does not exist` };
  if (encoded === undefined) return { missing: `Secret ${name} has no key ${key}` };
  const url = Buffer.from(encoded, 'base64').toString('utf8').trim();
  if (!/^rediss?:\/\//.test(url)) return { missing: `Secret ${name} key ${key} is not a redis:// or rediss:// URL` };
  return { password: '', checksum: sha256(url) };
}

async function waitForUserSecret(deps: ReconcileDeps, hw: HelloWorld, problem: string, now: Date): Promise<void> {
  const generation = hw.metadata.generation ?? 0;
  const message = `${problem}; the API pods are not changed until the Redis URL is available`;
  const conditions = setCondition(
    hw.status?.conditions ?? [],
    { type: 'Degraded', status: 'True', reason: 'RedisSecretInvalid', message },
    generation,
    now,
  );
  const status: HelloWorldStatus = { ...hw.status, phase: hw.status?.phase ?? 'Pending', conditions, observedGeneration: generation };
  if (!isDeepStrictEqual(normalize(hw.status ?? {}), normalize(status))) {
    deps.events.record(hw, 'Warning', 'RedisSecretInvalid', message);
  }
  await persistStatus(deps, hw, status);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

