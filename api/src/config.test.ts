import { ConfigError } from '#common/env.js';
import { describeConfig, loadConfig } from './config.js';
import { loadRedisTarget } from './redis-config.js';
import { reconnectDelay } from './store.js';

describe('loadConfig', () => {
  it('has defaults for everything', () => {
    const config = loadConfig({});
    expect(config).toEqual({
      port: 8080,
      redis: loadRedisTarget({}), // its defaults: redis-config.test.ts
      redisCommandTimeoutMs: 250,
      startupStorageWaitMs: 0,
      logLevel: 'info',
      shutdownDrainMs: 5000,
      shutdownTimeoutMs: 25_000,
      chaos: { errorRate: 0, latencyMs: 0 },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '9090',
      REDIS_URL: 'rediss://default:fromurl@clustercfg.example.com:6380/2',
      REDIS_PASSWORD: 'override',
      LOG_LEVEL: 'debug',
      SHUTDOWN_DRAIN_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '3000',
      CHAOS_ERROR_RATE: '0.5',
      CHAOS_LATENCY_MS: '200',
      REDIS_COMMAND_TIMEOUT_MS: '100',
      STARTUP_STORAGE_WAIT_MS: '3000',
    });
    expect(config.startupStorageWaitMs).toBe(3000);
    expect(config.port).toBe(9090);
    expect(config.redis).toEqual({
      topology: 'standalone',
      host: 'clustercfg.example.com',
      port: 6380,
      tls: { ca: undefined, caFile: undefined, serverName: undefined },
      db: 2,
      username: 'default',
      password: 'override',
    });
    expect(config.shutdownDrainMs).toBe(1000);
    expect(config.chaos).toEqual({ errorRate: 0.5, latencyMs: 200 });
    expect(config.redisCommandTimeoutMs).toBe(100);
    expect(config.logLevel).toBe('debug');
  });

  it.each([
    [{ PORT: 'http' }, 'PORT must be a whole number'],
    [{ REDIS_URL: 'localhost:6379' }, 'REDIS_URL must use redis:// or rediss://'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL must be a URL'],
    [{ REDIS_URL: 'http://x:6379' }, 'REDIS_URL must use redis:// or rediss://'],
    [{ REDIS_URL: 'redis://x:6379/abc' }, 'database number'],
    [{ CHAOS_ERROR_RATE: '2' }, 'CHAOS_ERROR_RATE must be between 0 and 1'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL must be one of'],
    [{ SHUTDOWN_DRAIN_MS: '30000' }, 'must be less than SHUTDOWN_TIMEOUT_MS'],
    [{ STARTUP_STORAGE_WAIT_MS: '-1' }, 'STARTUP_STORAGE_WAIT_MS must be between 0 and 600000'],
    [{ STARTUP_STORAGE_WAIT_MS: '3s' }, 'STARTUP_STORAGE_WAIT_MS must be a whole number'],
  ])('rejects %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('describes itself without the password or URL', () => {
    const config = loadConfig({ REDIS_URL: 'redis://:hunter2@redis:6379', REDIS_PASSWORD: 'sekret' });
    const text = JSON.stringify(describeConfig(config));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('sekret');
    expect(text).toContain('"auth":true');
  });
});

describe('reconnectDelay', () => {
  it('backs off exponentially, with jitter, up to the cap', () => {
    expect(reconnectDelay(1, 1000, () => 0)).toBe(25);
    expect(reconnectDelay(1, 1000, () => 1)).toBe(50);
    expect(reconnectDelay(3, 1000, () => 1)).toBe(200);
    expect(reconnectDelay(50, 1000, () => 1)).toBe(1000);
    expect(reconnectDelay(50, 1000, () => 0)).toBe(500);
  });
});
