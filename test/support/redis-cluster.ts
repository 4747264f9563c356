/**
 * A throwaway Redis Cluster for tests: `redis-server` processes with `cluster-enabled yes` on free
 * ports of 127.0.0.1, each in a temporary directory for its nodes.conf, joined by
 * `redis-cli --cluster create` (Debian package redis-tools), primaries with one replica each so that a
 * killed primary has a replica to promote. cluster-node-timeout is short so a failover takes seconds.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { startRedis, type RedisHandle } from './redis.js';
import { tlsArgs, type TestCa } from './redis-tls.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly primary: boolean;
  /** The id of its primary, for a replica. */
  readonly primaryId: string | undefined;
  readonly failed: boolean;
  /** Inclusive slot ranges a primary serves. */
  readonly slots: readonly (readonly [number, number])[];
}

export interface RedisClusterHandle {
  /** The seed, as a configuration endpoint: redis://127.0.0.1:<port of the first node>. */
  readonly url: string;
  /** With `tls`: rediss://127.0.0.1:<TLS port of the first node>. */
  readonly tlsUrl: string | undefined;
  readonly nodes: readonly RedisHandle[];
  /** The cluster as a live node sees it (CLUSTER NODES). */
  topology(): Promise<ClusterNode[]>;
  /** The server of the primary that serves `key` now. */
  primaryFor(key: string): Promise<RedisHandle>;
  /** A replica of the primary on `port`. */
  replicaOf(port: number): Promise<RedisHandle>;
  /** Until every slot is served and every live node says cluster_state:ok. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  readonly primaries?: number;
  readonly replicasPerPrimary?: number;
  /** cluster-node-timeout: how long a silent primary takes to be judged failed (default 1000 ms). */
  readonly nodeTimeoutMs?: number;
  /**
   * TLS on a second port of each node, with this CA's server certificate, also between the nodes (bus and
   * replication); the plain port stays for the harness. Clients on TLS learn the nodes' TLS ports.
   */
  readonly tls?: TestCa;
  /** More arguments for every node, e.g. an ACL user. */
  readonly args?: readonly string[];
}

/** One line of CLUSTER NODES: `<id> <ip:port@bus> <flags> <primary|-> <ping> <pong> <epoch> <link> <slot>...`. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', primaryId = '-', ...rest] = line.trim().split(' ');
      const flagList = flags.split(',');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        primary: flagList.includes('master'),
        primaryId: primaryId === '-' ? undefined : primaryId,
        failed: flagList.includes('fail') || flagList.includes('fail?'),
        // After ping-sent, pong-recv, config-epoch and link-state come the slots: "0-5460", "5461", ...
        slots: rest
          .slice(4)
          .filter((s) => /^\d+(-\d+)?$/.test(s))
          .map((s): [number, number] => {
            const [from = 0, to = from] = s.split('-').map(Number);
            return [from, to];
          }),
      };
    });
}

async function onNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const primaries = options.primaries ?? 3;
  const replicas = options.replicasPerPrimary ?? 1;
  const dirs: string[] = [];
  const nodes: RedisHandle[] = [];
  const tlsPorts: number[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  };
  try {
    for (let i = 0; i < primaries * (1 + replicas); i++) {
      const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
      dirs.push(dir);
      const tlsPort = options.tls ? await freePort() : 0;
      tlsPorts.push(tlsPort);
      const tls = options.tls
        ? [...tlsArgs(options.tls, tlsPort), '--tls-cluster', 'yes', '--tls-replication', 'yes']
        : [];
      nodes.push(
        await startRedis({
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, 'nodes.conf'),
            '--cluster-node-timeout',
            String(options.nodeTimeoutMs ?? 1000),
            '--dir',
            dir,
            ...tls,
            ...(options.args ?? []),
          ],
        }),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
  } catch (err) {
    await stopAll();
    throw err;
  }

  const stopped = new Set<number>();
  const liveNodes = (): RedisHandle[] => nodes.filter((n) => !stopped.has(n.port));
  const topology = async (): Promise<ClusterNode[]> => {
    for (const node of liveNodes()) {
      try {
        return parseClusterNodes(
          await onNode(node.port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>),
        );
      } catch {
        // try the next node
      }
    }
    throw new Error('no node of the cluster answers CLUSTER NODES');
  };
  const anyLive = (): RedisHandle => {
    const node = liveNodes()[0];
    if (!node) throw new Error('every node of the Redis Cluster is stopped');
    return node;
  };
  const handleOn = (port: number): RedisHandle => {
    const handle = nodes.find((n) => n.port === port);
    if (!handle) throw new Error(`no node on port ${port}`);
    return handle;
  };

  const seed = liveNodes()[0];
  if (!seed) throw new Error('the Redis Cluster has no node');
  const handle: RedisClusterHandle = {
    url: `redis://127.0.0.1:${seed.port}`,
    tlsUrl: options.tls ? `rediss://127.0.0.1:${String(tlsPorts[0])}` : undefined,
    // stop() of a node is remembered so that topology() asks the live ones.
    nodes: nodes.map((n) => ({
      ...n,
      stop: async () => {
        stopped.add(n.port);
        await n.stop();
      },
    })),
    topology,
    async primaryFor(key) {
      const slot = (await onNode(anyLive().port, (r) => r.call('CLUSTER', 'KEYSLOT', key))) as number;
      const owner = (await topology()).find(
        (n) => n.primary && !n.failed && n.slots.some(([from, to]) => slot >= from && slot <= to),
      );
      if (!owner) throw new Error(`no live primary serves slot ${slot}`);
      return handle.nodes.find((n) => n.port === owner.port) ?? handleOn(owner.port);
    },
    async replicaOf(port) {
      const all = await topology();
      const primary = all.find((n) => n.port === port);
      const replica = all.find((n) => primary !== undefined && n.primaryId === primary.id && !n.failed);
      if (!replica) throw new Error(`the primary on port ${port} has no live replica`);
      return handle.nodes.find((n) => n.port === replica.port) ?? handleOn(replica.port);
    },
    async waitHealthy(timeoutMs = 30_000) {
      await waitFor(
        async () => {
          for (const node of liveNodes()) {
            const info = await onNode(node.port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>);
            if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
          }
          return true;
        },
        {
          describe: 'every live node of the Redis Cluster to report cluster_state:ok',
          timeoutMs,
          intervalMs: 100,
        },
      );
    },
    stop: stopAll,
  };
  await handle.waitHealthy();
  return handle;
}
