/**
 * Everything a HelloWorld should own, as one pure function of its resolved spec and the few facts the
 * reconciler reads from the cluster (an existing Redis password, the config checksum, the template).
 */
import type { KubernetesObject, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../api/defaults.js';
import { KINDS, typeMeta } from '../api/kinds.js';
import type { HelloWorld } from '../api/types.js';
import { sha256Hex } from '../runtime/hash.js';
import { buildHpa, buildPdb } from './autoscaling.js';
import { buildDeployment } from './deployment.js';
import {
  buildRedisNetworkPolicy,
  buildRedisSecret,
  buildRedisService,
  buildRedisStatefulSet,
  redisConfigFile,
} from './redis.js';
import { buildService } from './service.js';

export interface DesiredInputs {
  /** The pod template to run: the spec's, or the stable revision's during a rollback. */
  template: V1PodTemplateSpec;
  /**
   * The managed Redis password (kept from the existing Secret, or newly generated); undefined when it is
   * unknown (the Secret of that name is not the HelloWorld's): the Secret and the StatefulSet are then
   * left out.
   */
  redisPassword: string | undefined;
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
    const password = inputs.redisPassword;
    if (password !== undefined) apply.push(buildRedisSecret(hw, password));
    apply.push(buildRedisService(hw));
    if (password !== undefined)
      apply.push(buildRedisStatefulSet(hw, spec.redis, configChecksum(redisConfigFile(password))));
    apply.push(buildRedisNetworkPolicy(hw));
  }
  apply.push(buildDeployment(hw, spec, inputs.template), buildService(hw, spec), buildPdb(hw, spec));
  const hpa = buildHpa(hw, spec);
  if (hpa) apply.push(hpa);
  else absent.push({ ...typeMeta(KINDS.HorizontalPodAutoscaler), name: hw.metadata.name });
  return { apply, absent };
}

/** The checksum a pod template carries of the configuration its pods read (16 hex digits of sha256). */
export function configChecksum(text: string): string {
  return sha256Hex(text, 16);
}

export { buildPodTemplate, CONFIG_CHECKSUM_ANNOTATION } from './deployment.js';
