/**
 * `make demo`: a guided tour of the operator on the local cluster of `make up`, printed as it happens.
 *
 * With a real node (`make up NODE=real`): a HelloWorld with its managed Redis; a birthday stored and
 * read back through the Service from this host; a healthy release rolled out under a small load, with
 * every request counted; a bad release (every API request fails) caught by the post-deploy smoke checks
 * and rolled back, timed from its pods being ready to the rollback; the birthday read again.
 * With simulated nodes: no container runs, so the HTTP parts are skipped (and said so); a crash-looping
 * and an unpullable image are rolled back instead.
 *
 * Runs with Node 24 (type stripping) and kubectl against KUBECONFIG. The tour owns one namespace
 * (DEMO_NAMESPACE, default hello-demo) and starts it afresh each time. DEMO_API_IMAGE and
 * DEMO_REDIS_IMAGE name the images (default: those hack/images.sh builds for the real node).
 * The summary lines (`birthday stored:`, `good release:`, `bad release:`, `birthday still readable:`)
 * are stable: the e2e suite reads them.
 */
import { spawn } from 'node:child_process';
import { stringify } from 'yaml';

const namespace = process.env.DEMO_NAMESPACE ?? 'hello-demo';
const apiImage = process.env.DEMO_API_IMAGE ?? 'helloworld-api:dev';
const redisImage = process.env.DEMO_REDIS_IMAGE ?? 'helloworld-local/redis:7';
const name = 'hello';
const started = Date.now();

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s`;
const step = (title: string): void => {
  say();
  say(`== ${title}`);
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

class DemoError extends Error {}

/** Runs kubectl; resolves with its stdout, rejects with its stderr. */
function kubectl(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', (error) => {
      reject(new DemoError(`kubectl could not run (${error.message}); \`make up\` provisions it`));
    });
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new DemoError(`kubectl ${args.join(' ')}: ${err.trim() || `exit ${String(code)}`}`));
    });
    child.stdin.end(input ?? '');
  });
}

/** Prints a kubectl command the user could type, then its output, indented. */
async function show(args: string[]): Promise<void> {
  say(`$ kubectl ${args.join(' ')}`);
  for (const line of (await kubectl(args)).trimEnd().split('\n')) say(`  ${line}`);
}

interface Status {
  phase?: string;
  currentRevision?: string;
  stableRevision?: string;
  stableImage?: string;
  selector?: string;
  replicas?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  lastRollback?: { fromRevision: string; toRevision: string; reason: string; message: string; time: string };
}

async function status(): Promise<Status> {
  const hw = JSON.parse(await kubectl(['get', 'hw', name, '-n', namespace, '-o', 'json'])) as {
    status?: Status;
  };
  return hw.status ?? {};
}

const condition = (s: Status, type: string): { status: string; reason?: string } | undefined =>
  s.conditions?.find((c) => c.type === type);

let lastPhase = '';

/**
 * Polls the HelloWorld until `done` holds, printing each change of phase (and of the Degraded reason)
 * as it happens. `each` sees every poll (the tour uses it to watch the pods).
 */
async function follow(
  what: string,
  done: (s: Status) => boolean,
  timeoutSeconds: number,
  each?: () => Promise<void>,
): Promise<Status> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const s = await status();
    const degraded = condition(s, 'Degraded');
    const now = `phase ${s.phase ?? '(none yet)'}${degraded?.status === 'True' ? `, degraded: ${degraded.reason ?? ''}` : ''}`;
    if (now !== lastPhase) say(`  ${elapsed()}  ${now}`);
    lastPhase = now;
    if (done(s)) return s;
    if (Date.now() > deadline) {
      throw new DemoError(
        `${what}: not reached in ${String(timeoutSeconds)} s (${now}); is the operator running? ` +
          `\`kubectl get pods -n helloworld-system\`, or the log of \`make up\``,
      );
    }
    await each?.();
    await sleep(500);
  }
}

/** Polls `check` every 500 ms until it holds. */
async function until(what: string, timeoutSeconds: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new DemoError(`${what}: not reached in ${String(timeoutSeconds)} s`);
    await sleep(500);
  }
}

/** Applies the HelloWorld with this spec, printing the command and the object as YAML. */
async function apply(spec: Record<string, unknown>): Promise<void> {
  const object = {
    apiVersion: 'hello.dev/v1alpha1',
    kind: 'HelloWorld',
    metadata: { name, namespace },
    spec,
  };
  say(`$ kubectl apply -f - <<EOF`);
  for (const line of stringify(object).trimEnd().split('\n')) say(`  ${line}`);
  say('  EOF');
  await kubectl(['apply', '-f', '-'], JSON.stringify(object));
}

/** A merge patch of the spec, printed as the command a user would type. */
async function patch(spec: Record<string, unknown>): Promise<void> {
  const args = ['patch', 'hw', name, '-n', namespace, '--type=merge', '-p', JSON.stringify({ spec })];
  say(`$ kubectl ${args.slice(0, -1).join(' ')} '${args.at(-1) ?? ''}'`);
  await kubectl(args);
}

const env = (vars: Record<string, string>): { name: string; value: string }[] =>
  Object.entries(vars).map(([n, value]) => ({ name: n, value }));

/** A fresh namespace for the tour; a previous tour's HelloWorld (and its Redis volume) goes first. */
async function freshNamespace(): Promise<void> {
  await kubectl([
    'delete',
    'hw',
    name,
    '-n',
    namespace,
    '--ignore-not-found',
    '--wait=true',
    '--timeout=120s',
  ]);
  await kubectl(['create', 'namespace', namespace, '--dry-run=client', '-o', 'json']).then((ns) =>
    kubectl(['apply', '-f', '-'], ns),
  );
}

/** Real pods, or kwok's simulated nodes (they carry kwok's annotation)? */
async function realNodes(): Promise<boolean> {
  let nodes: {
    items: { metadata: { annotations?: Record<string, string>; labels?: Record<string, string> } }[];
  };
  try {
    nodes = JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])) as typeof nodes;
    await kubectl(['get', 'crd', 'helloworlds.hello.dev']);
  } catch (error) {
    throw new DemoError(
      `no local cluster with the operator answers (${(error as Error).message.split('\n')[0] ?? ''}); ` +
        'start it with `make up` (real pods: `make up NODE=real`)',
    );
  }
  if (nodes.items.length === 0) throw new DemoError('the cluster has no node');
  // kwok manages the nodes it simulates by this annotation; the local cluster labels them type=kwok too.
  return nodes.items.some(
    (n) => n.metadata.annotations?.['kwok.x-k8s.io/node'] !== 'fake' && n.metadata.labels?.type !== 'kwok',
  );
}

// ---- HTTP against the Service, from this host (the local real node routes Service addresses) ----

interface Answer {
  status: number;
  body: string;
}

async function call(base: string, method: string, path: string, body?: string): Promise<Answer> {
  const res = await fetch(base + path, {
    method,
    ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: (await res.text()).trim() };
}

interface LoadReport {
  ok: number;
  failed: number;
}

/** Steady PUT/GET traffic from `workers` clients, each on its own user, until stopped. */
function startLoad(base: string, workers: number): { stop: () => Promise<LoadReport> } {
  const report: LoadReport = { ok: 0, failed: 0 };
  let stopping = false;
  const worker = async (i: number): Promise<void> => {
    const path = `/hello/load${'abcdefgh'[i] ?? 'x'}`;
    for (let n = 0; !stopping; n++) {
      const put = n % 2 === 0;
      const answer = await (
        put ? call(base, 'PUT', path, '{"dateOfBirth":"1990-05-15"}') : call(base, 'GET', path)
      ).catch(() => undefined); // no HTTP answer at all: refused, reset or timed out
      if (answer?.status === (put ? 204 : 200)) report.ok++;
      else report.failed++;
    }
  };
  const running = Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  return {
    stop: async () => {
      stopping = true;
      await running;
      return report;
    },
  };
}

interface Pod {
  metadata: { name: string; annotations?: Record<string, string> };
  status: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
}

async function pods(selector: string): Promise<Pod[]> {
  return (
    JSON.parse(await kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])) as {
      items: Pod[];
    }
  ).items;
}

const readySince = (pod: Pod): string | undefined =>
  pod.status.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime;

/**
 * Applies a change that makes a bad release, follows it until the operator rolls it back, prints the
 * rollback record and the seconds from the bad pods being ready to the decision, then waits until every
 * pod is of the stable revision again: RolledBack is the decision, the rollback itself a rolling update.
 */
async function badRelease(change: Record<string, unknown>, timeoutSeconds: number): Promise<void> {
  const { stableRevision: stable, selector = '', replicas } = await status();
  const readyAt = new Map<string, number>(); // pods of the bad revision -> when each became ready
  const watchPods = async (): Promise<void> => {
    for (const pod of await pods(selector)) {
      const since = readySince(pod);
      if (pod.metadata.annotations?.['hello.dev/revision'] !== stable && since !== undefined) {
        readyAt.set(pod.metadata.name, Date.parse(since));
      }
    }
  };
  await patch(change);
  const { lastRollback: record } = await follow(
    'the bad release to be rolled back',
    (s) => s.phase === 'RolledBack',
    timeoutSeconds,
    watchPods,
  );
  if (record === undefined) throw new DemoError('RolledBack without a lastRollback record');
  const decided = Date.parse(record.time);
  const firstReady = Math.min(...readyAt.values());
  say(
    `bad release: RolledBack (${record.reason}) from ${record.fromRevision} to ${record.toRevision}` +
      (Number.isFinite(firstReady)
        ? `, ${((decided - firstReady) / 1000).toFixed(0)} s after its first pod was ready`
        : ', none of its pods was ever ready'),
  );
  say(`  lastRollback.message: ${record.message}`);
  await until('every pod to be of the stable revision again, and ready', 180, async () => {
    const current = await pods(selector);
    return (
      current.length === replicas &&
      current.every(
        (p) => p.metadata.annotations?.['hello.dev/revision'] === stable && readySince(p) !== undefined,
      )
    );
  });
  say(
    `  rollback complete: every pod is of ${stable ?? '?'} again, ${((Date.now() - decided) / 1000).toFixed(0)} s after the decision`,
  );
}

// ---- The tours ----

const realSpec: Record<string, unknown> = {
  image: apiImage,
  replicas: 3,
  env: env({ RELEASE: '1' }),
  disruptionBudget: { minAvailable: 2 },
  rollout: {
    maxSurge: 1,
    maxUnavailable: 0,
    progressDeadlineSeconds: 120,
    verification: {
      // The cluster, the pods and 4 clients share this machine's cores: a healthy smoke check through the
      // API server proxy may take longer than the default budget (the p99 SLO plus 200 ms).
      smoke: { maxLatencyMs: 2000 },
      analysis: { windowSeconds: 20, intervalSeconds: 10, maxErrorRate: 0.05 },
    },
  },
  redis: { mode: 'Managed', image: redisImage, storage: { size: '256Mi', whenDeleted: 'Delete' } },
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
};

async function realTour(): Promise<void> {
  step(`1. A HelloWorld in namespace ${namespace}: 3 replicas, a managed Redis, verified on every rollout`);
  await freshNamespace();
  await apply(realSpec);
  await follow('the first release to be Available', (s) => s.phase === 'Available', 300);
  await show(['get', 'hw', name, '-n', namespace]);
  const uid = (await kubectl(['get', 'hw', name, '-n', namespace, '-o', 'jsonpath={.metadata.uid}'])).trim();
  const ip = (
    await kubectl(['get', 'svc', name, '-n', namespace, '-o', 'jsonpath={.spec.clusterIP}'])
  ).trim();
  const base = `http://${ip}`;
  // The local real node routes Service addresses from this host; a kind node, for one, does not.
  if ((await call(base, 'GET', '/healthz').catch(() => undefined))?.status !== 200) {
    throw new DemoError(
      `the Service's address ${ip} does not answer from this host: the tour needs the local cluster ` +
        'of `make up NODE=real`, whose node is this host',
    );
  }

  step('2. Store a birthday and read it back, through the Service, from this host');
  say(
    `$ curl -X PUT -H 'content-type: application/json' -d '{"dateOfBirth":"1990-02-14"}' ${base}/hello/alice`,
  );
  const put = await call(base, 'PUT', '/hello/alice', '{"dateOfBirth":"1990-02-14"}');
  say(`birthday stored: PUT /hello/alice -> ${String(put.status)}`);
  say(`$ curl ${base}/hello/alice`);
  const first = await call(base, 'GET', '/hello/alice');
  say(`birthday read: GET /hello/alice -> ${String(first.status)} ${first.body}`);
  if (put.status !== 204 || first.status !== 200) throw new DemoError('the API did not store the birthday');

  step('3. A healthy release, rolled out under load (4 clients, PUT and GET without pause)');
  const before = (await status()).currentRevision;
  const goodLoad = startLoad(base, 4);
  await sleep(2000);
  await patch({ env: env({ RELEASE: '2' }) }); // any change of the pod template is a new revision
  await follow(
    'the healthy release to be verified',
    (s) => s.phase === 'Available' && s.currentRevision !== before && s.stableRevision === s.currentRevision,
    300,
  );
  const good = await goodLoad.stop();
  say(
    `good release: ${String(good.ok + good.failed)} requests during the rollout, ${String(good.failed)} failed`,
  );

  step('4. A bad release: every API request fails (CHAOS_ERROR_RATE=1), /healthz and /readyz stay green');
  const load = startLoad(base, 2);
  await badRelease({ env: env({ RELEASE: '3', CHAOS_ERROR_RATE: '1' }) }, 300);
  const bad = await load.stop();
  say(
    `  while the bad release ran: ${String(bad.failed)} of ${String(bad.ok + bad.failed)} requests failed ` +
      '(a rolling update exposes every replica before verification can judge it)',
  );
  await show([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    `involvedObject.uid=${uid},type=Warning`,
    '-o',
    'custom-columns=REASON:.reason,MESSAGE:.message',
  ]);

  step('5. The stored birthday is still there');
  const again = await call(base, 'GET', '/hello/alice');
  say(`birthday still readable: GET /hello/alice -> ${String(again.status)} ${again.body}`);
  await show(['get', 'hw', name, '-n', namespace, '-o', 'wide']);
}

const simulatedSpec: Record<string, unknown> = {
  image: apiImage,
  replicas: 3,
  rollout: { progressDeadlineSeconds: 20, verification: { enabled: false } },
};

async function badImage(title: string, image: string): Promise<void> {
  step(title);
  await badRelease({ image }, 180);
  await show(['get', 'hw', name, '-n', namespace]);
}

async function simulatedTour(): Promise<void> {
  say('Simulated nodes (kwok): pods are scheduled and become ready, but no container runs.');
  say(
    'Skipped here: HTTP, the birthday, the release under load, the chaos release; `make up NODE=real` runs them.',
  );
  step(`1. A HelloWorld in namespace ${namespace}: 3 replicas (verification off: no pod answers here)`);
  await freshNamespace();
  await apply(simulatedSpec);
  await follow('the first release to be Available', (s) => s.phase === 'Available', 180);
  await show(['get', 'hw', name, '-n', namespace]);
  await badImage('2. A crash-looping image', 'crashloop.invalid/hello/api:2');
  await patch({ image: apiImage }); // back to the stable image, so the next failure is its own
  await follow('the stable image again', (s) => s.phase === 'Available', 120);
  await badImage('3. An image that cannot be pulled', 'pullfail.invalid/hello/api:3');
}

async function main(): Promise<void> {
  const real = await realNodes();
  say(
    `A tour of the helloworld operator (namespace ${namespace}, ${real ? 'a real node' : 'simulated nodes'}).`,
  );
  if (real) await realTour();
  else await simulatedTour();
  step('Try next');
  say(
    `  kubectl describe hw ${name} -n ${namespace}          # the story: conditions, lastRollback, events in order`,
  );
  say(
    `  kubectl annotate hw ${name} -n ${namespace} hello.dev/retry=1   # roll the failed revision out again`,
  );
  if (real)
    say(
      `  kubectl delete pod ${name}-redis-0 -n ${namespace}    # the data survives: Redis keeps it on its volume`,
    );
  say('  docs/rollouts.md and docs/verification.md: every knob of the rollout and its checks');
  say(
    `  kubectl delete namespace ${namespace}                  # remove the tour; make down removes the cluster`,
  );
  say();
  say(`demo: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
