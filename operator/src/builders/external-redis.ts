/**
 * The API container's settings for an External Redis beyond its URL (spec.redis.external): cluster mode,
 * TLS with a CA mounted read-only from a Secret or ConfigMap, a certificate name, an ACL user and its
 * password. Each absent field adds nothing, so a HelloWorld without them keeps the pod template it had.
 */
import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ExternalRedisSpec } from '../crd/types.js';

/** Where the CA is mounted in the API container; the file name is fixed, whatever the key is called. */
export const REDIS_CA_DIR = '/etc/hello/redis-ca';
export const REDIS_CA_FILE = `${REDIS_CA_DIR}/ca.crt`;
const REDIS_CA_VOLUME = 'redis-ca';

/** The API's variables (api/src/redis-config.ts) for the fields that are set. */
export function externalRedisEnv(external: ExternalRedisSpec | undefined): V1EnvVar[] {
  if (!external) return [];
  const { tls } = external;
  return [
    ...(external.topology === 'Cluster' ? [{ name: 'REDIS_TOPOLOGY', value: 'cluster' }] : []),
    ...(tls?.enabled === true ? [{ name: 'REDIS_TLS', value: 'true' }] : []),
    ...(tls?.enabled === true && tls.caFrom ? [{ name: 'REDIS_TLS_CA_FILE', value: REDIS_CA_FILE }] : []),
    ...(tls?.enabled === true && tls.serverName !== undefined
      ? [{ name: 'REDIS_TLS_SERVER_NAME', value: tls.serverName }]
      : []),
    ...(external.username !== undefined ? [{ name: 'REDIS_USERNAME', value: external.username }] : []),
    ...(external.passwordSecretRef
      ? [
          {
            name: 'REDIS_PASSWORD',
            valueFrom: {
              secretKeyRef: { name: external.passwordSecretRef.name, key: external.passwordSecretRef.key },
            },
          },
        ]
      : []),
  ];
}

/** The CA's volume and its read-only mount, when TLS names a CA. */
export function externalRedisCa(external: ExternalRedisSpec | undefined): {
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
} {
  const tls = external?.tls;
  const from = tls?.enabled === true ? tls.caFrom : undefined;
  if (!from) return { volumes: [], mounts: [] };
  const secret = from.secretKeyRef;
  const configMap = from.configMapKeyRef;
  const volume: V1Volume | undefined = secret
    ? {
        name: REDIS_CA_VOLUME,
        secret: { secretName: secret.name, items: [{ key: secret.key, path: 'ca.crt' }] },
      }
    : configMap
      ? {
          name: REDIS_CA_VOLUME,
          configMap: { name: configMap.name, items: [{ key: configMap.key, path: 'ca.crt' }] },
        }
      : undefined;
  if (!volume) return { volumes: [], mounts: [] };
  return { volumes: [volume], mounts: [{ name: REDIS_CA_VOLUME, mountPath: REDIS_CA_DIR, readOnly: true }] };
}
