// Two LeaderElectors on one Lease of the real API server: one leads, a release hands over at once, and a
// leader that can no longer renew steps down.
import { jest } from '@jest/globals';
import type { KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '#common/logger.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  loadKubeConfig,
  waitFor,
} from '../../../test/support/cluster.js';
import { LeaderElector, type Lease } from './leader.js';
import { HttpKubeRest } from './rest.js';

const logger = createLogger('leader-test', 'silent');

// Real API calls on a real Lease: a handover waits out the lease duration and renew periods (seconds).
jest.setTimeout(60_000);

describe('LeaderElector (real API server)', () => {
  let kc: KubeConfig;
  let rest: HttpKubeRest;
  let namespace: string;
  const electors: LeaderElector[] = [];

  beforeAll(async () => {
    kc = loadKubeConfig();
    rest = new HttpKubeRest(kc);
    namespace = await createTestNamespace('leader', kc);
  });

  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.release()));
  });

  afterAll(async () => {
    await deleteTestNamespace(namespace, { kc });
  });

  /** A candidate whose lease lasts a minute: any handover seen within the test came from a release. */
  function candidate(
    lease: string,
    identity: string,
    overrides: { leaseDurationMs?: number; renewDeadlineMs?: number } = {},
  ) {
    const log: string[] = [];
    const elector = new LeaderElector({
      rest,
      namespace,
      name: lease,
      identity,
      logger,
      leaseDurationMs: overrides.leaseDurationMs ?? 60_000,
      renewDeadlineMs: overrides.renewDeadlineMs ?? 2_000,
      retryPeriodMs: 200,
      onLeaderChange: (leading) => log.push(leading ? 'leading' : 'not leading'),
    });
    electors.push(elector);
    const running = elector.run({
      onStartedLeading: () => log.push('started'),
      onStoppedLeading: () => log.push('stopped'),
    });
    return { elector, log, running };
  }

  const readLease = (name: string) =>
    rest.request<Lease>('GET', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`);

  it('elects exactly one leader and hands over at once on release', async () => {
    const a = candidate('handover', 'replica-a');
    const b = candidate('handover', 'replica-b');
    const first = await waitFor(() => [a, b].find((c) => c.elector.isLeader()), { describe: 'a leader' });
    const second = first === a ? b : a;

    // Several renew periods later there is still exactly one leader, and it is the lease holder.
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect([a, b].filter((c) => c.elector.isLeader())).toEqual([first]);
    }
    const held = await readLease('handover');
    expect(held.spec?.holderIdentity).toBe(first.elector.identity);
    expect(held.spec?.leaseDurationSeconds).toBe(60);
    expect(held.spec?.renewTime).toMatch(/\.\d{6}Z$/);

    await first.elector.release();
    await first.running;
    expect(first.log).toEqual(['leading', 'started', 'not leading']); // a release is not a loss

    // The lease would stay valid for a minute; the standby takes it long before that.
    await waitFor(() => second.elector.isLeader(), {
      describe: 'the standby to take over',
      timeoutMs: 20_000,
    });
    const taken = await readLease('handover');
    expect(taken.spec?.holderIdentity).toBe(second.elector.identity);
    expect(taken.spec?.leaseTransitions).toBe(0);
    expect(second.log).toEqual(['leading', 'started']);
  });

  it('steps down when another holder takes the lease and renewals fail past the deadline', async () => {
    const a = candidate('takeover', 'replica-a');
    await waitFor(() => a.elector.isLeader(), { describe: 'a leader' });
    // Someone else writes the lease (retrying when it races with a renewal).
    await waitFor(
      async () => {
        const lease = await readLease('takeover');
        lease.spec = { ...lease.spec, holderIdentity: 'intruder', leaseDurationSeconds: 3600 };
        return rest.request('PUT', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/takeover`, {
          body: lease,
        });
      },
      { describe: 'the intruder to take the lease' },
    );

    await a.running;
    expect(a.elector.isLeader()).toBe(false);
    expect(a.log).toEqual(['leading', 'started', 'not leading', 'stopped']);
    expect((await readLease('takeover')).spec?.holderIdentity).toBe('intruder');
  });
});
