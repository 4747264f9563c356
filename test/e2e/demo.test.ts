// `make demo` end to end on the local cluster (its simulated nodes in `make e2e-local`, its real node in
// `make e2e-real`): the tour's transcript is what a user sees, so the test reads it as a user would and
// checks it against the cluster. On kind the tour does not apply (Service addresses do not answer from
// the host), and the test says so.
import { spawn } from 'node:child_process';
import { kubeconfigPath, repoRoot } from '../support/cluster.js';
import type { V1Node } from '@kubernetes/client-node';
import { apiImage, jsonpath, kubectl, realPods, setUp, type E2eContext } from './harness.js';

const nodes = (JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])) as { items: V1Node[] }).items;
const simulated = !realPods;
// The real node of hack/cluster.sh is this host (hack/lib/real-node.sh names it).
const localRealNode = realPods && nodes.length === 1 && nodes[0]?.metadata?.name === 'helloworld-node';
const demoIt = simulated || localRealNode ? it : it.skip;
if (!simulated && !localRealNode) {
  process.stderr.write('\nmake demo: skipped: it runs on the local cluster of `make up`, not on this one\n');
}

let ctx: E2eContext;

beforeAll(async () => {
  ctx = await setUp('demo');
}, 120_000);

afterAll(async () => {
  await ctx.cleanup();
}, 120_000);

function makeDemo(): Promise<{ code: number | null; transcript: string; errors: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('make', ['--no-print-directory', 'demo'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        KUBECONFIG: kubeconfigPath(),
        DEMO_NAMESPACE: ctx.namespace,
        DEMO_API_IMAGE: apiImage,
        ...(process.env.E2E_REDIS_IMAGE === undefined
          ? {}
          : { DEMO_REDIS_IMAGE: process.env.E2E_REDIS_IMAGE }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let transcript = '';
    let errors = '';
    child.stdout.on('data', (chunk: Buffer) => (transcript += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, transcript, errors });
    });
  });
}

const line = (transcript: string, pattern: RegExp): RegExpMatchArray => {
  const match = transcript.match(pattern);
  if (match === null) throw new Error(`the transcript has no line ${String(pattern)}:\n${transcript}`);
  return match;
};

demoIt(
  'make demo tells the story it promises, and the cluster agrees',
  async () => {
    const { code, transcript, errors } = await makeDemo();
    console.log(transcript);
    expect({ code, errors: code === 0 ? '' : errors }).toEqual({ code: 0, errors: '' });
    const hw = `hw/hello`;

    if (simulated) {
      expect(transcript).toMatch(
        /^Skipped here: HTTP, the birthday, the release under load, the chaos release/m,
      );
      line(transcript, /^bad release: RolledBack \(CrashLooping\) from \w+ to \w+/m);
      line(transcript, /^bad release: RolledBack \(ImagePullFailed\) from \w+ to \w+/m);
      expect(await jsonpath(ctx.namespace, hw, '{.status.lastRollback.reason}')).toBe('ImagePullFailed');
    } else {
      line(transcript, /^birthday stored: PUT \/hello\/alice -> 204$/m);
      const greeting = line(
        transcript,
        /^birthday read: GET \/hello\/alice -> 200 (\{"message":"Hello, alice! [^\n]*\})$/m,
      )[1];
      const good = line(transcript, /^good release: (\d+) requests during the rollout, (\d+) failed$/m);
      expect(Number(good[1])).toBeGreaterThan(0);
      expect(Number(good[2])).toBe(0);
      const bad = line(
        transcript,
        /^bad release: RolledBack \(SmokeTestFailed\) from (\w+) to (\w+), (\d+) s after its first pod was ready$/m,
      );
      line(transcript, /^ {2}lastRollback\.message: smoke check .*CHAOS_ERROR_RATE/m);
      line(transcript, /^ {2}rollback complete: every pod is of \w+ again/m);
      line(transcript, /^ {2}SmokeTestFailed +revision \w+ .* rolling back to stable revision/m);
      expect(line(transcript, /^birthday still readable: GET \/hello\/alice -> 200 (.*)$/m)[1]).toBe(
        greeting,
      );
      // What the tour printed is what the cluster holds.
      expect(await jsonpath(ctx.namespace, hw, '{.status.phase}')).toBe('RolledBack');
      expect(await jsonpath(ctx.namespace, hw, '{.status.lastRollback.fromRevision}')).toBe(bad[1]);
      expect(await jsonpath(ctx.namespace, hw, '{.status.stableRevision}')).toBe(bad[2]);
      // `kubectl describe` tells the bad release's story in order, in its events: it orders them by their
      // timestamps, which have one-second resolution, so two events of the same second may come either
      // way round (here, the rollout completing and the smoke checks failing right after it).
      const described = await kubectl(['describe', hw, '-n', ctx.namespace]);
      const story = described
        .slice(described.lastIndexOf('RolloutStarted'))
        .split('\n')
        .map((row) => /^\s*(?:Normal|Warning)?\s*(\w+)\s+\S+\s+helloworld-operator\s+(.*)$/.exec(row))
        .filter((m) => m !== null)
        .map((m) => `${m[1]!}: ${m[2]!}`);
      expect(story[0]).toMatch(new RegExp(`^RolloutStarted: rolling out revision ${bad[1]!} `));
      expect(story.slice(1, 3).sort()).toEqual([
        expect.stringMatching(new RegExp(`^RolloutComplete: revision ${bad[1]!} rolled out`)),
        expect.stringMatching(new RegExp(`^SmokeTestFailed: revision ${bad[1]!} `)),
      ]);
      expect(story[3]).toMatch(new RegExp(`^RollbackComplete: rolled back to stable revision ${bad[2]!} `));
    }
    line(transcript, /^demo: done in \d+ s$/m);
  },
  900_000,
);
