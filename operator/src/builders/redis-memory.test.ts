import { describe, expect, it } from '@jest/globals';
import { resolveSpec } from '../crd/defaults.js';
import type { HelloWorld } from '../crd/types.js';
import {
  REDIS_MAXMEMORY_PERCENT,
  buildRedisStatefulSet,
  redisMaxMemoryBytes,
  redisServerArgs,
} from './redis.js';

function statefulSetCommand(resources?: HelloWorld['spec']['redis']): string[] {
  const hw: HelloWorld = {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name: 'web', namespace: 'shop', uid: 'u-1' },
    spec: { image: 'hello/api:1.0.0', ...(resources && { redis: resources }) },
  };
  const redis = resolveSpec(hw.spec).redis;
  if (redis.mode !== 'Managed') throw new Error('expected a managed Redis');
  return buildRedisStatefulSet(hw, redis, 'checksum').spec!.template.spec!.containers[0]!.command!;
}

describe('the managed Redis memory bound', () => {
  it(`is ${REDIS_MAXMEMORY_PERCENT}% of the container's memory limit, with noeviction`, () => {
    // The default limit, 512Mi: 429496729.6 bytes, rounded down.
    expect(statefulSetCommand()).toEqual([
      'redis-server',
      '/etc/redis/redis.conf',
      '--maxmemory',
      '429496729',
      '--maxmemory-policy',
      'noeviction',
    ]);
    expect(
      statefulSetCommand({ resources: { requests: { memory: '64Mi' }, limits: { memory: '1Gi' } } }),
    ).toContain(String(Math.floor(2 ** 30 * 0.8)));
  });

  it.each([
    ['256Mi', 214748364],
    ['1G', 800_000_000],
    ['1.5Gi', 1288490188],
    ['500000k', 400_000_000],
    ['1e9', 800_000_000],
  ])('reads the limit %s as a Kubernetes quantity', (memory, bytes) => {
    expect(redisMaxMemoryBytes({ limits: { memory } })).toBe(bytes);
  });

  it('leaves maxmemory unset without a memory limit, and still never evicts', () => {
    expect(redisServerArgs({ requests: { memory: '64Mi' } })).toEqual(['--maxmemory-policy', 'noeviction']);
    expect(redisServerArgs(undefined)).toEqual(['--maxmemory-policy', 'noeviction']);
    expect(redisServerArgs({ limits: { cpu: '1' } })).toEqual(['--maxmemory-policy', 'noeviction']);
  });
});
