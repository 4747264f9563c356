// The memory arguments the operator gives the managed Redis, on a real redis-server: accepted, and in
// effect as the values the builder computed.
import { Redis } from 'ioredis';
import { resolveSpec } from '../crd/defaults.js';
import { startRedis } from '../../../test/support/redis.js';
import { redisMaxMemoryBytes, redisServerArgs } from './redis.js';

it('are accepted by redis-server and in effect', async () => {
  const redis = resolveSpec({ image: 'hello/api:1.0.0' }).redis;
  if (redis.mode !== 'Managed') throw new Error('expected a managed Redis');
  const server = await startRedis({ args: redisServerArgs(redis.resources) });
  const client = new Redis(server.url);
  try {
    expect(await client.config('GET', 'maxmemory')).toEqual([
      'maxmemory',
      String(redisMaxMemoryBytes(redis.resources)),
    ]);
    expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
  } finally {
    client.disconnect();
    await server.stop();
  }
});
