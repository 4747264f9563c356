// Clients of the API that run inside the cluster, as pods of the API image (it has node): a Service is
// reachable only from there, and a port-forward would pin one pod instead of going through the Service.
// Used by the real-pod scenarios only.
import { apiImage, jsonpath, kubectl, run, type E2eContext } from './harness.js';
import { waitFor } from '../support/cluster.js';

/** What the load generator reports when it stops. */
export interface LoadReport {
  ok: number;
  failed: number;
  /** Up to 20 failures: status or error, and when. */
  failures: string[];
}

// Every worker stores a date of birth once, then alternates PUT and GET on its own user. A request
// fails when it errors or answers anything but 204 (PUT) or 200 (GET). SIGTERM (or the deadline) ends it
// with one JSON line: the report.
const loadScript = `
const base = process.env.TARGET;
const deadline = Date.now() + Number(process.env.SECONDS) * 1000;
const report = { ok: 0, failed: 0, failures: [] };
let stopping = false;
const finish = () => { console.log(JSON.stringify(report)); process.exit(0); };
process.on('SIGTERM', () => { stopping = true; });
async function call(method, path, body, expect) {
  try {
    const res = await fetch(base + path, { method, body, headers: body ? { 'content-type': 'application/json' } : {}, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    if (res.status === expect) { report.ok++; return; }
    report.failed++;
    if (report.failures.length < 20) report.failures.push(new Date().toISOString() + ' ' + method + ' ' + path + ' -> ' + res.status);
  } catch (error) {
    report.failed++;
    if (report.failures.length < 20) report.failures.push(new Date().toISOString() + ' ' + method + ' ' + path + ' -> ' + (error.cause?.code ?? error.message));
  }
}
async function worker(i) {
  const path = '/hello/load' + 'abcdefghijklmnop'[i % 16] + 'x'.repeat(Math.floor(i / 16));
  let n = 0;
  while (!stopping && Date.now() < deadline) {
    if (n++ % 2 === 0) await call('PUT', path, '{"dateOfBirth":"1990-0' + (1 + (n % 9)) + '-15"}', 204);
    else await call('GET', path, undefined, 200);
  }
}
// Ready for the test once the first request succeeded, so that a slow pod start is not counted.
for (;;) { try { if ((await fetch(base + '/healthz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 200)); }
console.log('started');
await Promise.all(Array.from({ length: Number(process.env.CONCURRENCY) }, (_, i) => worker(i)));
finish();
`;

function clientPod(name: string, script: string, env: Record<string, string>): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { 'app.kubernetes.io/name': 'e2e-client' } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 10,
      containers: [
        {
          name: 'client',
          image: apiImage,
          imagePullPolicy: 'IfNotPresent',
          command: ['node', '--input-type=module', '-e', script],
          env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
          resources: { requests: { cpu: '100m', memory: '64Mi' } },
        },
      ],
    },
  };
}

export interface Load {
  /** Ends the load and returns its report. */
  stop(): Promise<LoadReport>;
}

/** Starts steady PUT/GET traffic on the Service `service` and resolves once it is flowing. */
export async function startLoad(
  ctx: E2eContext,
  options: { service: string; seconds: number; concurrency: number },
): Promise<Load> {
  const pod = `load-${options.service}`;
  await kubectl(['delete', 'pod', pod, '-n', ctx.namespace, '--ignore-not-found', '--wait=true']);
  await kubectl(
    ['apply', '-n', ctx.namespace, '-f', '-'],
    JSON.stringify(
      clientPod(pod, loadScript, {
        TARGET: `http://${options.service}.${ctx.namespace}.svc`,
        SECONDS: String(options.seconds),
        CONCURRENCY: String(options.concurrency),
      }),
    ),
  );
  await waitFor(async () => (await run(['logs', pod, '-n', ctx.namespace])).stdout.includes('started'), {
    describe: `the load generator ${pod} to reach the Service`,
    timeoutMs: 120_000,
    intervalMs: 1000,
  });
  return {
    stop: async () => {
      // SIGTERM to the node process (PID 1): the workers finish their request and it prints the report.
      await run(['exec', pod, '-n', ctx.namespace, '--', 'node', '-e', 'process.kill(1, "SIGTERM")']);
      await kubectl([
        'wait',
        `pod/${pod}`,
        '-n',
        ctx.namespace,
        '--for=jsonpath={.status.phase}=Succeeded',
        '--timeout=60s',
      ]);
      const lines = (await kubectl(['logs', pod, '-n', ctx.namespace])).trim().split('\n');
      return JSON.parse(lines[lines.length - 1]!) as LoadReport;
    },
  };
}

/** Runs `script` (an ES module) once in a client pod against the Service and returns what it printed. */
export async function runClient(ctx: E2eContext, service: string, script: string): Promise<string> {
  const pod = `client-${service}-${String(Date.now() % 100_000)}`;
  await kubectl(
    ['apply', '-n', ctx.namespace, '-f', '-'],
    JSON.stringify(clientPod(pod, script, { TARGET: `http://${service}.${ctx.namespace}.svc` })),
  );
  // Until the pod ends either way: a failed client is reported at once, not after the timeout.
  const phase = await waitFor(
    async () => {
      const now = await jsonpath(ctx.namespace, `pod/${pod}`, '{.status.phase}');
      return now === 'Succeeded' || now === 'Failed' ? now : undefined;
    },
    { describe: `the client pod ${pod} to finish`, timeoutMs: 120_000, intervalMs: 1000 },
  );
  const logs = await run(['logs', pod, '-n', ctx.namespace]);
  if (phase !== 'Succeeded')
    throw new Error(`client pod ${pod} ended ${phase}:\n${logs.stdout}${logs.stderr}`);
  return logs.stdout;
}
