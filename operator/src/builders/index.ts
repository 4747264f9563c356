/**
 * Everything a HelloWorld should own, as one pure function of its resolved spec and the few facts the
 * reconciler reads from the cluster: the Redis password and config checksum, whether the Prometheus
 * Operator is installed, and the rollout's record with the ReplicaSet history (a rollback runs the stable
 * revision's pod template).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import type { HelloWorld } from '../crd/types.js';
import {
  chooseTemplate,
  templateToRun,
  type RolloutHistory,
  type TemplateRevision,
} from '../rollout/template.js';
import { pauseRequested } from '../rollout/gates.js';
import { NO_CANARY, planCanary, type CanaryPlan } from '../rollout/canary-plan.js';
import { sha256Hex } from '../runtime/hash.js';
import { backupDecision, type BackupDecision } from '../backup/decision.js';
import { buildHpa, buildPdb } from './autoscaling.js';
import { backupName, buildBackupClaim, buildBackupCronJob } from './backup.js';
import { buildCanaryDeployment, canaryName } from './canary.js';
import { buildDeployment, buildPodTemplate } from './deployment.js';
import type { AbsentChild } from './meta.js';
import {
  buildPrometheusRule,
  buildServiceMonitor,
  monitoringChildren,
  monitoringWanted,
  type MonitoringDecision,
} from './monitoring.js';
import {
  buildRedisNetworkPolicy,
  buildRedisSecret,
  buildRedisService,
  buildRedisStatefulSet,
  redisConfigFile,
} from './redis.js';
import { buildService } from './service.js';
import { buildServiceAccount } from './service-account.js';

export interface DesiredInputs {
  redis: {
    /**
     * The managed Redis password (kept from the existing Secret, or newly generated); undefined when it
     * is unknown (the Secret of that name is not the HelloWorld's): the Secret and the StatefulSet are
     * then left out.
     */
    password: string | undefined;
    /** The checksum of the Redis configuration the API pods read (password or URL); '' when unknown. */
    checksum: string;
  };
  /** Whether the Prometheus Operator's CRDs (ServiceMonitor, PrometheusRule) are installed. */
  prometheusOperatorInstalled: boolean;
  /** What says whether the stable revision runs instead of the spec's; without it, the spec's runs. */
  rollout?: RolloutHistory;
}

export interface DesiredState {
  /** The revision of the pod template the spec asks for. */
  specRevision: string;
  /** The pod template the Deployment runs: the spec's, or the stable revision's during a rollback. */
  applied: TemplateRevision;
  /** The canary Deployment's part (strategy Canary): whether the stable template is held, how many canary pods. */
  canary: CanaryPlan;
  /** Whether the ServiceMonitor and PrometheusRule are wanted, and why: the Monitoring condition. */
  monitoring: MonitoringDecision;
  /** Whether backups are wanted, and their schedule once it parsed: the Backup condition. */
  backup: BackupDecision;
  /** The children to apply, prerequisites first. */
  apply: KubernetesObject[];
  /** The children to delete when they exist. */
  absent: AbsentChild[];
}

export function desiredState(hw: HelloWorld, spec: ResolvedSpec, inputs: DesiredInputs): DesiredState {
  const { redis, prometheusOperatorInstalled, rollout } = inputs;
  const specTemplate = buildPodTemplate(hw, spec, redis.checksum);
  const canary = rollout ? canaryPlanFor(spec, specTemplate.revision, rollout) : NO_CANARY;
  const applied = rollout
    ? templateToRun(specTemplate, rollout, spec.rollout.autoRollback, canary.holdStable)
    : specTemplate;
  const apply: KubernetesObject[] = [];
  const absent: AbsentChild[] = [];
  const backup = backupDecision(spec);
  if (spec.redis.mode === 'Managed') {
    const password = redis.password;
    if (password !== undefined) apply.push(buildRedisSecret(hw, password));
    apply.push(buildRedisService(hw));
    if (password !== undefined)
      apply.push(buildRedisStatefulSet(hw, spec.redis, configChecksum(redisConfigFile(password))));
    apply.push(buildRedisNetworkPolicy(hw, backup.schedule !== undefined));
    if (backup.schedule !== undefined && spec.redis.backup !== undefined) {
      apply.push(
        buildBackupClaim(hw, spec.redis.backup),
        buildBackupCronJob(hw, spec.redis, spec.redis.backup),
      );
    }
  }
  // An invalid schedule leaves the CronJob as it was; a backup taken off the spec takes the CronJob with
  // it (never the claim, which holds the backups).
  if (!backup.wanted) absent.push({ ...typeMeta(KINDS.CronJob), name: backupName(hw) });
  // Kept while the HelloWorld lives once created, even if the spec stops asking: a rollback may run a
  // revision whose pods use it, and running pods would lose their identity (the garbage collector
  // deletes it with the HelloWorld).
  const serviceAccount = buildServiceAccount(hw, spec);
  if (serviceAccount) apply.push(serviceAccount);
  // hello.dev/pause stops the Deployment too, except on its way back to the stable revision.
  const paused =
    rollout !== undefined && pauseRequested(rollout.annotations) && rollout.status.phase !== 'RolledBack';
  apply.push(buildDeployment(hw, spec, applied.template, paused), buildService(hw, spec), buildPdb(hw, spec));
  if (canary.canaryReplicas !== undefined)
    apply.push(buildCanaryDeployment(hw, spec, specTemplate.template, canary.canaryReplicas));
  // Gone at once when a canary fails or is promoted: its pods leave the Service within seconds.
  else absent.push({ ...typeMeta(KINDS.Deployment), name: canaryName(hw) });
  const hpa = buildHpa(hw, spec);
  if (hpa) apply.push(hpa);
  else absent.push({ ...typeMeta(KINDS.HorizontalPodAutoscaler), name: hw.metadata.name });
  const monitoring = monitoringWanted(spec.monitoring, prometheusOperatorInstalled);
  if (monitoring.enabled) apply.push(buildServiceMonitor(hw, spec), buildPrometheusRule(hw, spec));
  // Without the CRDs there is nothing of these kinds to delete (nor a path to ask).
  else if (prometheusOperatorInstalled) absent.push(...monitoringChildren(hw));
  return { specRevision: specTemplate.revision, applied, canary, monitoring, backup, apply, absent };
}

/** The canary's part of the desired state, from the rollout's record (see rollout/canary-plan.ts). */
function canaryPlanFor(spec: ResolvedSpec, specRevision: string, rollout: RolloutHistory): CanaryPlan {
  const { status, annotations } = rollout;
  const choice = chooseTemplate({
    status,
    specRevision,
    annotations,
    autoRollback: spec.rollout.autoRollback,
  });
  return planCanary({
    spec,
    status,
    specRevision,
    rollingBack: choice.use === 'stable',
    stableReplicas: rollout.stableReplicas ?? spec.autoscaling?.minReplicas ?? spec.replicas,
  });
}

/** The checksum a pod template carries of the configuration its pods read (16 hex digits of sha256). */
export function configChecksum(text: string): string {
  return sha256Hex(text, 16);
}

export { buildPodTemplate, CONFIG_CHECKSUM_ANNOTATION } from './deployment.js';
