// The LeaderElector's deadline logic on a FakeClock, with the Lease kept in memory: when may a leader
// write, and when must it stop, including after a freeze (SIGSTOP) during which no timer fired.
import { createLogger } from '#common/logger.js';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { LeaderElector, type Lease } from './leader.js';
import { ApiError, type KubeRest, type RequestOptions, type Verb } from './rest.js';
import { LeadershipLostError } from './write-gate.js';

const LEASE = 4000;
const DEADLINE = 2000;
const RETRY = 500;

/** One Lease in memory with resourceVersion checks; `hang` makes requests wait until aborted. */
class MemoryLeases implements KubeRest {
  lease: Lease | undefined;
  hang = false;
  /** With `hang`: not even an abort ends the request (a stuck socket), so only a timer can help. */
  deaf = false;
  /** Delay (on the fake clock) before a PUT is answered; the write itself happens at once. */
  answerDelayMs = 0;
  aborted = 0;
  private version = 0;

  constructor(private readonly clock: FakeClock) {}

  request<T>(verb: Verb, _path: string, options: RequestOptions = {}): Promise<T> {
    if (this.hang) {
      return new Promise((_resolve, reject) => {
        options.signal?.addEventListener('abort', () => {
          this.aborted++;
          if (this.deaf) return;
          reject(new Error('aborted'));
        });
      });
    }
    if (verb === 'GET') {
      if (this.lease === undefined) return Promise.reject(new ApiError(404, 'NotFound', 'no lease'));
      return Promise.resolve(structuredClone(this.lease) as T);
    }
    const body = structuredClone(options.body) as Lease;
    if (verb === 'PUT' && body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
      return Promise.reject(new ApiError(409, 'Conflict', 'stale'));
    }
    this.version++;
    this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(this.version) } };
    const answer = structuredClone(this.lease) as T;
    if (this.answerDelayMs === 0) return Promise.resolve(answer);
    return new Promise((resolve) =>
      this.clock.setTimeout(() => {
        resolve(answer);
      }, this.answerDelayMs),
    );
  }

  /** Another replica writes itself in as the holder. */
  takeOver(identity: string): void {
    this.version++;
    this.lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lease', namespace: 'ns', resourceVersion: String(this.version) },
      spec: { holderIdentity: identity, leaseDurationSeconds: LEASE / 1000 },
    };
  }
}

async function leader(start = 1_000_000) {
  const clock = new FakeClock(start);
  const leases = new MemoryLeases(clock);
  const events: string[] = [];
  const elector = new LeaderElector({
    rest: leases,
    namespace: 'ns',
    name: 'lease',
    identity: 'me',
    logger: createLogger('leader-test', 'silent'),
    clock,
    leaseDurationMs: LEASE,
    renewDeadlineMs: DEADLINE,
    retryPeriodMs: RETRY,
  });
  const gate = elector.writeGate();
  expect(() => {
    gate.check();
  }).toThrow(LeadershipLostError); // closed before the election
  void elector.run({
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  await clock.advance(0);
  expect(events).toEqual(['started']);
  return { clock, leases, events, elector, gate };
}

describe('LeaderElector deadline', () => {
  it('keeps writing while renewals succeed', async () => {
    const { clock, events, gate } = await leader();
    for (let i = 0; i < 20; i++) {
      await clock.advance(RETRY);
      expect(() => {
        gate.check();
      }).not.toThrow();
    }
    expect(events).toEqual(['started']);
  });

  it('refuses the first write after a freeze, before any timer has fired (SIGSTOP, then SIGCONT)', async () => {
    const { clock, events, gate, elector } = await leader();
    clock.jump(LEASE + 1000); // frozen; on resume, queued work may run before the late timers
    expect(() => {
      gate.check();
    }).toThrow(LeadershipLostError);
    expect(gate.signal.aborted).toBe(true);
    expect(elector.isLeader()).toBe(false);
    expect(events).toEqual(['started', 'stopped']);

    await clock.advance(RETRY * 4); // the late timers fire: no second notice, no renewal
    expect(events).toEqual(['started', 'stopped']);
    expect(() => {
      gate.check();
    }).toThrow(LeadershipLostError);
  });

  it('a resumed leader does not renew a lease it held past the deadline', async () => {
    const { clock, leases, events } = await leader();
    const renewedAt = leases.lease?.spec?.renewTime;
    clock.jump(DEADLINE + 100);
    await clock.advance(RETRY);
    expect(events).toEqual(['started', 'stopped']);
    expect(leases.lease?.spec?.renewTime).toBe(renewedAt);
  });

  it('a timer ends leadership at the deadline while a renew request is stuck', async () => {
    const { clock, leases, events, gate } = await leader();
    leases.hang = true;
    leases.deaf = true; // the renew loop waits forever: only the deadline timer can act
    await clock.advance(DEADLINE - 1);
    expect(events).toEqual(['started']);
    expect(gate.signal.aborted).toBe(false);
    await clock.advance(1);
    expect(events).toEqual(['started', 'stopped']);
    expect(gate.signal.aborted).toBe(true);
  });

  it('aborts a lease request after half the renew deadline', async () => {
    const { clock, leases } = await leader();
    leases.hang = true;
    await clock.advance(RETRY + DEADLINE / 2 - 1);
    expect(leases.aborted).toBe(0);
    await clock.advance(1);
    expect(leases.aborted).toBe(1);
  });

  it('counts the deadline from when the renewal was sent, not when its answer came', async () => {
    const { clock, leases, events, gate } = await leader();
    leases.answerDelayMs = 1000; // written at once, answered a second later
    // Renewals are sent at 500 (answered 1500) and 2000 (answered 3000); the deadline of the one sent
    // at 500 passes at 2500, while the next is still unanswered.
    await clock.advance(RETRY + DEADLINE - 1);
    expect(() => {
      gate.check();
    }).not.toThrow();
    await clock.advance(1);
    expect(() => {
      gate.check();
    }).toThrow(LeadershipLostError);
    expect(events).toEqual(['started', 'stopped']);
  });

  it('steps down at once when the lease shows another holder', async () => {
    const { clock, leases, events, gate } = await leader();
    leases.takeOver('other');
    await clock.advance(RETRY);
    expect(events).toEqual(['started', 'stopped']);
    expect(() => {
      gate.check();
    }).toThrow(LeadershipLostError);
  });

  it('a wall clock stepped back does not extend leadership; one stepped forward ends it early', async () => {
    const back = await leader();
    back.leases.hang = true;
    back.clock.stepWallClock(-60_000);
    back.clock.jump(DEADLINE);
    expect(() => {
      back.gate.check();
    }).toThrow(LeadershipLostError);

    const forward = await leader();
    forward.clock.stepWallClock(DEADLINE);
    expect(() => {
      forward.gate.check();
    }).toThrow(LeadershipLostError);
  });

  it('closes the gate before it releases the lease', async () => {
    const { elector, leases, gate } = await leader();
    const released = elector.release();
    expect(() => {
      gate.check();
    }).toThrow(LeadershipLostError);
    await released;
    expect(leases.lease?.spec?.holderIdentity).toBeUndefined();
  });
});
