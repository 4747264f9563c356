import type {
  V1NetworkPolicy,
  V1NetworkPolicyIngressRule,
  V1ResourceRequirements,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import { labels, selectorLabels } from '../crd/labels.js';
import type { HelloWorld } from '../crd/types.js';
import { parseQuantity } from '../runtime/apply-diff.js';
import { CONFIG_CHECKSUM_ANNOTATION } from './deployment.js';
import { RESTRICTED_CONTAINER, childMeta, redisName, redisSecretName } from './meta.js';
import { assertRedisPassword } from './redis-password.js';
import { REDIS_POD_SECURITY, redisAuthEnv, restoreFromBackup } from './backup.js';

type ManagedRedis = Extract<ResolvedSpec['redis'], { mode: 'Managed' }>;

export const REDIS_PORT = 6379;
const base64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

/**
 * The server's configuration file. The password is validated here too (redis-password.ts): a line break
 * or a quote in it would let whoever edits the Secret add directives to the configuration.
 */
export function redisConfigFile(password: string): string {
  assertRedisPassword(password);
  const config = [
    `requirepass ${password}`,
    'appendonly yes',
    'appendfsync everysec',
    'dir /data',
    `port ${REDIS_PORT}`,
    'protected-mode no',
  ].join('\n');
  return `${config}\n`;
}

/**
 * The Secret holding the generated password and the server's configuration. The password is passed in:
 * the reconciler keeps an existing Secret's password, so it is generated once and never rotated by
 * accident. The config lives here, not on a command line, so the password never shows in `ps`.
 */
export function buildRedisSecret(hw: HelloWorld, password: string): V1Secret {
  return {
    ...typeMeta(KINDS.Secret),
    metadata: childMeta(hw, redisSecretName(hw), 'redis'),
    type: 'Opaque',
    // `data`, not `stringData`: the API server stores only `data`, so a comparison with the live object works.
    data: { password: base64(password), 'redis.conf': base64(redisConfigFile(password)) },
  };
}

export function buildRedisService(hw: HelloWorld): V1Service {
  return {
    ...typeMeta(KINDS.Service),
    metadata: childMeta(hw, redisName(hw), 'redis'),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(hw, 'redis'),
      ports: [{ name: 'redis', port: REDIS_PORT, targetPort: 'redis', protocol: 'TCP' }],
    },
  };
}

/**
 * Redis's data may use this share of its container's memory limit. The rest is for what `maxmemory` does
 * not count: allocator fragmentation, client and replication buffers, the AOF rewrite buffer and the
 * pages the forked rewrite child copies on write. Above it Redis refuses writes (`noeviction`), which the
 * API answers with 507, instead of evicting dates of birth or growing until the kernel kills it.
 */
export const REDIS_MAXMEMORY_PERCENT = 80;

/** `maxmemory` in bytes for a container with these resources; undefined without a memory limit. */
export function redisMaxMemoryBytes(resources: V1ResourceRequirements | undefined): number | undefined {
  // A quantity is a string, or a plain number in JSON written by hand.
  const limit: unknown = resources?.limits?.memory;
  if (typeof limit !== 'string' && typeof limit !== 'number') return undefined;
  const nanoBytes = parseQuantity(String(limit));
  if (nanoBytes === undefined || nanoBytes <= 0n) return undefined;
  return Number((nanoBytes * BigInt(REDIS_MAXMEMORY_PERCENT)) / 100n / 1_000_000_000n);
}

/**
 * redis-server's arguments after the config file (they override it): the memory bound. Not in the
 * Secret's redis.conf because they follow `redis.resources`, not the password.
 */
export function redisServerArgs(resources: V1ResourceRequirements | undefined): string[] {
  const maxmemory = redisMaxMemoryBytes(resources);
  return [
    ...(maxmemory === undefined ? [] : ['--maxmemory', String(maxmemory)]),
    '--maxmemory-policy',
    'noeviction',
  ];
}

/** `redis-cli ping` exits 0 even while Redis is loading its data; only PONG means it can serve. */
const PING = ['sh', '-c', `redis-cli -h 127.0.0.1 -p ${REDIS_PORT} ping | grep -q PONG`];

/**
 * `configChecksum` covers redis.conf (so the password): Redis reads its configuration only as it starts,
 * so a new password restarts it, in step with the API pods, whose template carries the same password's
 * checksum.
 */
export function buildRedisStatefulSet(
  hw: HelloWorld,
  redis: ManagedRedis,
  configChecksum: string,
): V1StatefulSet {
  const secret = redisSecretName(hw);
  // A backup to load into a new volume: the init container leaves a volume with data alone.
  const restore = redis.restoreFrom && restoreFromBackup(redis, redis.restoreFrom);
  return {
    ...typeMeta(KINDS.StatefulSet),
    metadata: childMeta(hw, redisName(hw), 'redis'),
    spec: {
      replicas: 1,
      serviceName: redisName(hw),
      selector: { matchLabels: selectorLabels(hw, 'redis') },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: redis.storage.whenDeleted, whenScaled: 'Retain' },
      template: {
        metadata: {
          labels: labels(hw, 'redis'),
          annotations: { [CONFIG_CHECKSUM_ANNOTATION]: configChecksum },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: REDIS_POD_SECURITY,
          ...(restore && { initContainers: [restore.initContainer] }),
          containers: [
            {
              name: 'redis',
              image: redis.image,
              imagePullPolicy: 'IfNotPresent',
              command: ['redis-server', '/etc/redis/redis.conf', ...redisServerArgs(redis.resources)],
              ports: [{ name: 'redis', containerPort: REDIS_PORT, protocol: 'TCP' }],
              env: [redisAuthEnv(hw)],
              resources: redis.resources,
              readinessProbe: {
                exec: { command: PING },
                periodSeconds: 5,
                timeoutSeconds: 3,
                failureThreshold: 2,
              },
              livenessProbe: {
                exec: { command: PING },
                initialDelaySeconds: 20,
                periodSeconds: 15,
                timeoutSeconds: 5,
                failureThreshold: 6,
              },
              securityContext: RESTRICTED_CONTAINER,
              volumeMounts: [
                { name: 'data', mountPath: '/data' },
                { name: 'config', mountPath: '/etc/redis', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ],
          volumes: [
            {
              name: 'config',
              secret: { secretName: secret, items: [{ key: 'redis.conf', path: 'redis.conf' }] },
            },
            { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
            ...(restore ? [restore.volume] : []),
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: labels(hw, 'redis') },
          spec: {
            accessModes: ['ReadWriteOnce'],
            resources: { requests: { storage: redis.storage.size } },
            ...(redis.storage.storageClassName !== undefined && {
              storageClassName: redis.storage.storageClassName,
            }),
          },
        },
      ],
    },
  };
}

/** Only this instance's API pods, and its backup pods, may reach its Redis. */
export function buildRedisNetworkPolicy(hw: HelloWorld, backups = false): V1NetworkPolicy {
  return {
    ...typeMeta(KINDS.NetworkPolicy),
    metadata: childMeta(hw, redisName(hw), 'redis'),
    spec: {
      podSelector: { matchLabels: selectorLabels(hw, 'redis') },
      policyTypes: ['Ingress'],
      // The object is sent as plain JSON: the wire name is `from` (client-node's model calls it `_from`).
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: selectorLabels(hw, 'api') } },
            ...(backups ? [{ podSelector: { matchLabels: selectorLabels(hw, 'redis-backup') } }] : []),
          ],
          ports: [{ protocol: 'TCP', port: REDIS_PORT }],
        } as V1NetworkPolicyIngressRule,
      ],
    },
  };
}
