/**
 * The facts about Redis the pods depend on, read before anything is built. Managed: the password, kept
 * from the HelloWorld's own Secret; generated only when the API server (not the cache) says there is no
 * Secret of that name. External: the user's Secret must hold a redis:// or rediss:// URL under the named
 * key, and the Secret of redis.external.passwordSecretRef, when named, a password. The checksum covers
 * what the API pods read, so a changed password or URL rolls them; the Redis
 * StatefulSet carries the checksum of its configuration, so a new password restarts Redis with them.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../crd/defaults.js';
import { KINDS, typeMeta } from '../crd/kinds.js';
import type { HelloWorld } from '../crd/types.js';
import { configChecksum } from '../builders/index.js';
import { redisName, redisSecretName } from '../builders/meta.js';
import { generateRedisPassword, redisPasswordProblem } from '../builders/redis-password.js';
import { BlockedReason } from '../rollout/conditions.js';
import type { ChildReads } from './child-reads.js';
import { judgeOwnership } from './ownership.js';
import type { ClusterReader } from './cluster-reader.js';

export type RedisConfig =
  /** Managed with a usable password, or External with a usable URL (password ''). */
  | { state: 'ready'; password: string; checksum: string; regenerated: boolean }
  /** Managed, and the Secret of its name is someone else's: the password is unknown. */
  | { state: 'foreign'; conflict: string }
  /** Nothing may be built: the user's Secret is missing or wrong, or the stored password is unusable. */
  | {
      state: 'unusable';
      reason: typeof BlockedReason.RedisSecretInvalid | typeof BlockedReason.RedisPasswordInvalid;
      problem: string;
    };

export async function redisConfig(
  reader: ClusterReader,
  reads: ChildReads,
  hw: HelloWorld,
  spec: ResolvedSpec,
): Promise<RedisConfig> {
  if (spec.redis.mode === 'Managed') return managedRedis(reads, hw);
  const { namespace } = hw.metadata;
  const { name, key } = spec.redis.urlSecretRef;
  const secret = await reader.readUserSecret(namespace, name);
  const encoded = secret?.data?.[key];
  const unusable = (problem: string): RedisConfig => ({
    state: 'unusable',
    reason: BlockedReason.RedisSecretInvalid,
    problem,
  });
  if (!secret) return unusable(`Secret ${name} does not exist`);
  if (encoded === undefined) return unusable(`Secret ${name} has no key ${key}`);
  const url = Buffer.from(encoded, 'base64').toString('utf8').trim();
  if (!/^rediss?:\/\//.test(url))
    return unusable(`Secret ${name} key ${key} is not a redis:// or rediss:// URL`);
  const passwordRef = spec.redis.external?.passwordSecretRef;
  if (!passwordRef) {
    return { state: 'ready', password: '', checksum: configChecksum(url), regenerated: false };
  }
  const holder =
    passwordRef.name === name ? secret : await reader.readUserSecret(namespace, passwordRef.name);
  if (!holder)
    return unusable(`Secret ${passwordRef.name} (redis.external.passwordSecretRef) does not exist`);
  const password = holder.data?.[passwordRef.key];
  if (password === undefined || password === '') {
    return unusable(
      `Secret ${passwordRef.name} has no key ${passwordRef.key} (redis.external.passwordSecretRef)`,
    );
  }
  // Base64 as stored: the checksum only needs to change when the password does.
  return {
    state: 'ready',
    password: '',
    checksum: configChecksum(`${url}\n${password}`),
    regenerated: false,
  };
}

async function managedRedis(reads: ChildReads, hw: HelloWorld): Promise<RedisConfig> {
  const name = redisSecretName(hw);
  const found = await reads.find({ ...typeMeta(KINDS.Secret), name });
  const own = judgeOwnership(hw, found);
  if (own.state === 'foreign') return { state: 'foreign', conflict: own.conflict };
  if (own.state === 'absent') {
    // Redis keeps its data on its volume, not the password: a new password with the StatefulSet's
    // checksum restarts Redis with it while the API pods roll onto it. Regenerated, not first created,
    // when the StatefulSet exists already.
    const sts = await reads.find({ ...typeMeta(KINDS.StatefulSet), name: redisName(hw) });
    const password = generateRedisPassword();
    return { state: 'ready', password, checksum: configChecksum(password), regenerated: sts !== undefined };
  }
  const stored = (own.live as V1Secret).data?.password;
  if (stored === undefined || stored === '') {
    return {
      state: 'unusable',
      reason: BlockedReason.RedisPasswordInvalid,
      problem: `Secret ${name} has no key password`,
    };
  }
  const password = Buffer.from(stored, 'base64').toString('utf8');
  const problem = redisPasswordProblem(password);
  if (problem !== undefined) {
    return {
      state: 'unusable',
      reason: BlockedReason.RedisPasswordInvalid,
      problem: `the password in Secret ${name} ${problem}`,
    };
  }
  return { state: 'ready', password, checksum: configChecksum(password), regenerated: false };
}
