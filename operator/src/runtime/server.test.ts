import { createLogger } from '#common/logger.js';
import { OperatorMetrics } from '../controller/metrics.js';
import { createOpsServer, operatorReadiness, type OpsServer } from './server.js';

describe('ops server', () => {
  let server: OpsServer;
  let base: string;
  const state = { healthy: true, ready: false };
  const metrics = new OperatorMetrics();

  beforeAll(async () => {
    server = createOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      logger: createLogger('ops-test', 'silent'),
      healthy: () => state.healthy,
      ready: () => state.ready,
    });
    base = `http://127.0.0.1:${await server.listen()}`;
  });

  afterAll(async () => {
    await server.close();
  });

  it('serves the operator metrics in Prometheus text format', async () => {
    metrics.observeReconcile('success', 0.02);
    metrics.rollbacks.inc({ reason: 'CrashLooping' });
    metrics.kubeWrites.inc({ verb: 'apply', kind: 'Deployment' });
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const line of [
      'helloworld_reconcile_total{result="success"} 1',
      'helloworld_reconcile_total{result="error"} 0',
      'helloworld_reconcile_duration_seconds_count 1',
      'helloworld_workqueue_depth 0',
      'helloworld_workqueue_retries_total 0',
      'helloworld_rollbacks_total{reason="CrashLooping"} 1',
      'helloworld_kube_writes_total{verb="apply",kind="Deployment"} 1',
      'helloworld_leader 0',
      '# TYPE helloworld_informer_restarts_total counter',
      '# TYPE process_resident_memory_bytes gauge',
    ]) {
      expect(text).toContain(line);
    }
  });

  it('answers /healthz from the liveness check', async () => {
    state.healthy = true;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    state.healthy = false;
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    state.healthy = true;
  });

  it('answers /readyz from the readiness check', async () => {
    state.ready = false;
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    state.ready = true;
    const res = await fetch(`${base}/readyz?verbose`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
  });

  it('rejects unknown paths and methods', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe('operatorReadiness', () => {
  it('is ready as a healthy standby, or as a leader once synced', () => {
    const check = (healthy: boolean, isLeader: boolean, informersSynced: boolean) =>
      operatorReadiness({
        healthy: () => healthy,
        isLeader: () => isLeader,
        informersSynced: () => informersSynced,
      })();
    expect(check(true, false, false)).toBe(true);
    expect(check(true, true, false)).toBe(false);
    expect(check(true, true, true)).toBe(true);
    expect(check(false, false, true)).toBe(false);
    expect(check(false, true, true)).toBe(false);
  });
});
