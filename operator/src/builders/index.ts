/**
 * Everything a HelloWorld should own, as one pure function of its resolved spec and the few facts the
 * reconciler reads from the cluster (an existing Redis password, the config checksum, the template).
 */
import type { KubernetesObject, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../api/defaults.js';
import type { HelloWorld } from '../api/types.js';
import { buildHpa, buildPdb } from './autoscaling.js';
import { buildDeployment } from './deployment.js';
import {
  buildRedisNetworkPolicy,
  buildRedisSecret,
  buildRedisService,
  buildRedisStatefulSet,
} from './redis.js';
import { buildService } from './service.js';

export interface DesiredInputs {
  /** The pod template to run: the spec's, or the stable revision's during a rollback. */
  template: V1PodTemplateSpec;
  /** The managed Redis password (kept from the existing Secret, or newly generated). */
  redisPassword: string;
}

/** A child the HelloWorld should not have (e.g. the HPA after autoscaling was switched off). */
export interface AbsentChild {
  apiVersion: string;
  kind: string;
  name: string;
}

export interface DesiredState {
  apply: KubernetesObject[];
  absent: AbsentChild[];
}

export function desiredState(hw: HelloWorld, spec: ResolvedSpec, inputs: DesiredInputs): DesiredState {
  const apply: KubernetesObject[] = [];
  const absent: AbsentChild[] = [];
  if (spec.redis.mode === 'Managed') {
    apply.push(
      buildRedisSecret(hw, inputs.redisPassword),
      buildRedisService(hw),
      buildRedisStatefulSet(hw, spec.redis),
      buildRedisNetworkPolicy(hw),
    );
  }
  apply.push(buildDeployment(hw, spec, inputs.template), buildService(hw, spec), buildPdb(hw, spec));
  const hpa = buildHpa(hw, spec);
  if (hpa) apply.push(hpa);
  else absent.push({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', name: hw.metadata.name });
  return { apply, absent };
}

export { buildPodTemplate, CONFIG_CHECKSUM_ANNOTATION } from './deployment.js';
