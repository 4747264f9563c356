/**
 * Test fixtures for the rollout state machine (operator/src/rollout): Deployments and pods in the shapes
 * the API server reports, a scripted verifier, and a small driver that plays the reconciler's part
 * (choose template, apply, judge, read the Deployment live when asked, persist status through a JSON
 * round trip as the API server would).
 */
import type { V1Deployment, V1DeploymentCondition, V1Pod } from '@kubernetes/client-node';
import { resolveSpec, type ResolvedSpec } from '../../operator/src/crd/defaults.js';
import type { HelloSample, HelloWorldSpec, HelloWorldStatus } from '../../operator/src/crd/types.js';
import { judgeRollout, progressRollout } from '../../operator/src/rollout/machine.js';
import { REVISION_ANNOTATION } from '../../operator/src/rollout/revision.js';
import { chooseTemplate } from '../../operator/src/rollout/template.js';
import { planCanary, type CanaryPlan } from '../../operator/src/rollout/canary-plan.js';
import { CANARY_TRACK, TRACK_LABEL } from '../../operator/src/crd/labels.js';
import type {
  MeasureFn,
  RolloutDecision,
  RolloutEvent,
  RolloutInput,
} from '../../operator/src/rollout/types.js';
import type { Measurement, PodRef, SmokeResult, Verifier } from '../../operator/src/verification/types.js';

export const REV1 = 'aaaaaaaaa1';
export const REV2 = 'bbbbbbbbb2';
export const REV3 = 'ccccccccc3';
export const IMAGES: Record<string, string> = { [REV1]: 'hello:1', [REV2]: 'hello:2', [REV3]: 'hello:3' };
export const T0 = new Date('2026-03-01T12:00:00.000Z');

export interface DeploymentState {
  replicas?: number;
  updated?: number;
  available?: number;
  total?: number;
  /** metadata.generation; the controller has observed it unless `observed` says otherwise. */
  generation?: number;
  observed?: number;
  conditions?: V1DeploymentCondition[];
}

export function deployment(revision: string, state: DeploymentState = {}): V1Deployment {
  const replicas = state.replicas ?? 2;
  const available = state.available ?? replicas;
  const generation = state.generation ?? 1;
  return {
    metadata: { name: 'hello', namespace: 'ns', generation },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'hello' } },
      template: {
        metadata: { annotations: { [REVISION_ANNOTATION]: revision } },
        spec: { containers: [{ name: 'api', image: IMAGES[revision] ?? 'hello:?' }] },
      },
    },
    status: {
      observedGeneration: state.observed ?? generation,
      replicas: state.total ?? replicas,
      updatedReplicas: state.updated ?? replicas,
      availableReplicas: available,
      readyReplicas: available,
      conditions: state.conditions ?? [
        { type: 'Available', status: available > 0 ? 'True' : 'False', reason: 'MinimumReplicasAvailable' },
      ],
    },
  };
}

/** Mid-rollout: one new pod up, the old ones still serving. */
export const rolling = (revision: string): V1Deployment =>
  deployment(revision, { updated: 1, available: 2, total: 3 });
export const complete = (revision: string): V1Deployment => deployment(revision);
export const deadlineExceeded = (revision: string, state: DeploymentState = {}): V1Deployment =>
  deployment(revision, {
    ...state,
    updated: 1,
    available: 2,
    total: 3,
    conditions: [
      { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' },
      {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: 'ReplicaSet "hello-7d9f" has timed out progressing.',
      },
    ],
  });

export interface PodState {
  ready?: boolean;
  restarts?: number;
  waiting?: { reason: string; message?: string };
  lastExit?: { reason: string; exitCode: number };
  terminating?: boolean;
  /** An init container named `init` (image busybox:nope) waiting for this reason. */
  initWaiting?: { reason: string; message?: string };
}

export function pod(name: string, revision: string, state: PodState = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: 'ns',
      annotations: { [REVISION_ANNOTATION]: revision },
      ...(state.terminating && { deletionTimestamp: T0 }),
    },
    status: {
      ...(state.initWaiting && {
        initContainerStatuses: [
          {
            name: 'init',
            image: 'busybox:nope',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: state.initWaiting },
          },
        ],
      }),
      conditions: [{ type: 'Ready', status: (state.ready ?? true) ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'api',
          image: IMAGES[revision] ?? 'hello:?',
          imageID: '',
          ready: state.ready ?? true,
          restartCount: state.restarts ?? 0,
          state: state.waiting ? { waiting: state.waiting } : { running: {} },
          ...(state.lastExit && { lastState: { terminated: state.lastExit } }),
        },
      ],
    },
  };
}

/** A pod of the canary Deployment. */
export function canaryPod(name: string, revision: string, state: PodState = {}): V1Pod {
  const p = pod(name, revision, state);
  return { ...p, metadata: { ...p.metadata, labels: { [TRACK_LABEL]: CANARY_TRACK } } };
}

export const readyPods = (revision: string, count = 2): V1Pod[] =>
  Array.from({ length: count }, (_, i) => pod(`hello-${revision}-${i}`, revision));

export function sample(requests: number, errors = 0): HelloSample {
  return {
    requests,
    errors,
    buckets: [
      { le: 0.1, count: requests },
      { le: Infinity, count: requests },
    ],
    pods: {},
  };
}

/** Answers from scripts, then defaults: smoke passes, every sample adds 100 good requests. */
export class ScriptedVerifier implements Verifier {
  readonly smokeScript: (SmokeResult | Error)[] = [];
  readonly sampleScript: (HelloSample | Error)[] = [];
  readonly smokeCalls: PodRef[][] = [];
  readonly sampleCalls: PodRef[][] = [];
  private requests = 0;

  smoke(pods: PodRef[]): Promise<SmokeResult> {
    this.smokeCalls.push(pods);
    const next = this.smokeScript.shift() ?? {
      passed: true,
      message: `3 checks passed on ${pods.length} pods`,
    };
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }

  sample(pods: PodRef[]): Promise<HelloSample> {
    this.sampleCalls.push(pods);
    this.requests += 100;
    const next = this.sampleScript.shift() ?? sample(this.requests);
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
}

/** A measure that answers from a script (then Pass) and records what it was given. */
export function scriptedMeasure(
  script: Measurement['result'][],
): MeasureFn & { calls: [HelloSample, HelloSample][] } {
  const calls: [HelloSample, HelloSample][] = [];
  const fn = (prev: HelloSample, cur: HelloSample): Measurement => {
    calls.push([prev, cur]);
    const result = script.shift() ?? 'Pass';
    const messages = {
      Pass: 'error rate 0.0%, p99 12 ms',
      Fail: 'error rate 20.0% exceeds 5.0%',
      NoData: 'no /hello requests in the interval',
    };
    return { result, requests: result === 'NoData' ? 0 : 100, message: messages[result] };
  };
  return Object.assign(fn, { calls });
}

/** Plays the reconciler: what the tests change is the world (Deployment, pods, clock, spec, annotations). */
export class Sim {
  status: HelloWorldStatus = {};
  annotations: Record<string, string> = {};
  now = T0;
  spec: ResolvedSpec;
  specRevision = REV1;
  generation = 1;
  deployment: V1Deployment | undefined;
  pods: V1Pod[] = [];
  verifier = new ScriptedVerifier();
  measure: MeasureFn | undefined = scriptedMeasure([]);
  events: RolloutEvent[] = [];
  last: RolloutDecision | undefined;
  /** Set to apply a revision other than chooseTemplate's, as a reconciler that cannot find it would. */
  forceApplied: string | undefined;
  /**
   * What a live read of the Deployment returns, when it differs from the cached `deployment`: a cache
   * that lags behind the API server. Null: the live read returns the cached one.
   */
  liveDeployment: V1Deployment | null = null;
  /** Live reads the machine asked for (RolloutDecision.needsLiveDeployment). */
  liveReads = 0;
  /** False: hand the machine's provisional decision back as it is, without the live read. */
  answerLiveReads = true;

  constructor(spec: Partial<HelloWorldSpec> = {}) {
    this.spec = resolveSpec({ image: IMAGES[REV1] ?? '', ...spec });
  }

  /** Who set each gate annotation, as the reconciler reads it from managedFields. */
  gateActors: Record<string, string> = {};

  /** The revision the reconciler would apply now to the stable Deployment. */
  applied(): string {
    const choice = chooseTemplate({
      status: this.status,
      specRevision: this.specRevision,
      annotations: this.annotations,
      autoRollback: this.spec.rollout.autoRollback,
    });
    if (choice.use === 'stable') return choice.revision;
    return this.plan().holdStable ? (this.status.stableRevision ?? this.specRevision) : this.specRevision;
  }

  /** The canary Deployment the reconciler would apply now (strategy Canary). */
  plan(): CanaryPlan {
    const choice = chooseTemplate({
      status: this.status,
      specRevision: this.specRevision,
      annotations: this.annotations,
      autoRollback: this.spec.rollout.autoRollback,
    });
    return planCanary({
      spec: this.spec,
      status: this.status,
      specRevision: this.specRevision,
      rollingBack: choice.use === 'stable',
      stableReplicas: this.deployment?.spec?.replicas ?? this.spec.replicas,
    });
  }

  async step(): Promise<RolloutDecision> {
    const plan = this.plan();
    const input: RolloutInput = {
      ...(plan.canaryReplicas !== undefined && {
        canary: { replicas: plan.canaryReplicas, holdStable: plan.holdStable },
      }),
      gateActors: this.gateActors,
      now: this.now,
      generation: this.generation,
      annotations: { ...this.annotations },
      status: this.status,
      spec: this.spec,
      specRevision: this.specRevision,
      appliedRevision: this.forceApplied ?? this.applied(),
      ...(this.deployment && { deployment: this.deployment }),
      pods: this.pods,
      verifier: this.verifier,
      ...(this.measure && { measure: this.measure }),
    };
    const readLive = (): Promise<V1Deployment | undefined> => {
      this.liveReads += 1;
      return Promise.resolve(this.liveDeployment ?? this.deployment);
    };
    const decision = this.answerLiveReads
      ? (await judgeRollout(input, readLive)).decision
      : await progressRollout(input);
    this.status = JSON.parse(JSON.stringify(decision.status)) as HelloWorldStatus;
    this.events.push(...decision.events);
    this.last = decision;
    return decision;
  }

  advance(seconds: number): void {
    this.now = new Date(this.now.getTime() + seconds * 1000);
  }

  /** A spec change: its image is the revision's. */
  changeSpec(revision: string): void {
    this.specRevision = revision;
    this.spec = { ...this.spec, image: IMAGES[revision] ?? '' };
    this.generation += 1;
  }

  /** The world as a fully rolled-out revision. */
  settle(revision: string): void {
    this.deployment = complete(revision);
    this.pods = readyPods(revision);
  }

  condition(type: string): { status: string; reason: string; message: string; lastTransitionTime: string } {
    const found = this.status.conditions?.find((c) => c.type === type);
    if (!found) throw new Error(`no ${type} condition`);
    return found;
  }

  /** Runs a first rollout of REV1 to Available (verification included). */
  async reachStable(): Promise<void> {
    this.settle(REV1);
    await this.step();
    for (let i = 0; i < 6; i++) {
      this.advance(this.spec.rollout.verification.analysis.intervalSeconds);
      await this.step();
    }
    if (this.status.phase !== 'Available')
      throw new Error(`expected Available, got ${this.status.phase ?? '-'}`);
  }
}
