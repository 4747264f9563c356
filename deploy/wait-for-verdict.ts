/**
 * Waits for the operator's verdict on a HelloWorld that was just applied, for a deploy pipeline.
 *
 *   node deploy/wait-for-verdict.ts NAMESPACE/NAME [--timeout 15m] [--generation N] [--interval 2s]
 *
 * Exit 0: Available (the applied spec rolled out and passed verification). Exit 1: RolledBack or Failed
 * (prints status.lastRollback.message or the Degraded condition), or the spec was changed again before
 * it was judged. Exit 2: no verdict before the timeout (prints the last phase and conditions). Exit 3:
 * bad arguments.
 *
 * --generation is the metadata.generation that the apply returned; without it, the generation the
 * object has at each look. Either way only a status whose observedGeneration equals it counts, so the
 * verdict of the previous spec, still in the status right after an apply, is never taken for this one.
 * With $GITHUB_STEP_SUMMARY set, a markdown section is appended to it; on GitHub Actions, text from the
 * status is printed with workflow commands stopped, and a failure adds an error annotation.
 *
 * Runs with Node 24 (type stripping), no npm packages; reads the object with kubectl (KUBECTL, default
 * `kubectl` on PATH) and its usual configuration (KUBECONFIG, current context).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { clean, errorAnnotation, exitCode, logText, summaryMarkdown } from './report.ts';
import type { Outcome } from './report.ts';
import { judge, parseDuration, readObserved, type Observed } from './verdict.ts';

const USAGE = 'usage: wait-for-verdict.ts NAMESPACE/NAME [--timeout 15m] [--generation N] [--interval 2s]';

interface Options {
  namespace: string;
  name: string;
  timeoutMs: number;
  timeoutText: string;
  intervalMs: number;
  generation?: number;
}

function parseOptions(argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      timeout: { type: 'string', default: '15m' },
      interval: { type: 'string', default: '2s' },
      generation: { type: 'string' },
    },
  });
  const [target, ...rest] = positionals;
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(target ?? '');
  if (!match || rest.length > 0)
    throw new Error(`expected one NAMESPACE/NAME, got ${JSON.stringify(positionals)}`);
  const generation = values.generation;
  if (generation !== undefined && !/^[1-9]\d{0,15}$/.test(generation)) {
    throw new Error(`--generation must be a positive integer, got "${generation}"`);
  }
  const intervalMs = parseDuration(values.interval);
  if (intervalMs <= 0) throw new Error('--interval must be more than 0');
  return {
    namespace: match[1] ?? '',
    name: match[3] ?? '',
    timeoutMs: parseDuration(values.timeout),
    timeoutText: values.timeout,
    intervalMs,
    generation: generation === undefined ? undefined : Number(generation),
  };
}

/** One read of the HelloWorld; rejects with kubectl's message (not found, unreachable, forbidden). */
function readHelloWorld(namespace: string, name: string): Promise<unknown> {
  const args = ['get', 'helloworlds.hello.dev', name, '-n', namespace, '-o', 'json', '--request-timeout=20s'];
  return new Promise((resolve, reject) => {
    execFile(
      process.env.KUBECTL ?? 'kubectl',
      args,
      { maxBuffer: 16 * 1024 * 1024, timeout: 30_000 },
      (error, stdout, stderr) => {
        // kubectl's last line says what went wrong (the earlier ones repeat it for each retry).
        const said = stderr.trim().split('\n').at(-1) ?? '';
        if (error) reject(new Error(`kubectl ${args.join(' ')}: ${said || error.message}`));
        else {
          try {
            resolve(JSON.parse(stdout));
          } catch (parseError) {
            reject(new Error(`kubectl printed no JSON: ${(parseError as Error).message}`));
          }
        }
      },
    );
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until a verdict or the timeout; read errors (a blip of the API server) are retried. */
async function waitForVerdict(options: Options): Promise<Outcome> {
  const { namespace, name } = options;
  const deadline = Date.now() + options.timeoutMs;
  let observed: Observed | undefined;
  let lastWait = 'not read yet';
  for (;;) {
    try {
      observed = readObserved(await readHelloWorld(namespace, name));
      const verdict = judge(observed, options.generation);
      if (verdict.kind !== 'waiting') {
        return { target: { namespace, name }, observed, verdict, lastWait, waited: options.timeoutText };
      }
      if (verdict.why !== lastWait) process.stdout.write(`waiting: ${clean(verdict.why, false)}\n`);
      lastWait = verdict.why;
    } catch (error) {
      lastWait = (error as Error).message;
    }
    if (Date.now() >= deadline) {
      return {
        target: { namespace, name },
        observed,
        verdict: undefined,
        lastWait,
        waited: options.timeoutText,
      };
    }
    await sleep(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Prints the outcome (to stdout only: the runner reads stdout and stderr apart, and the end of the stopped
 * commands must come after every line of status text); on GitHub Actions, with `stopToken` set, resumes
 * workflow commands and adds an error annotation for anything but a pass.
 */
function report(outcome: Outcome, stopToken: string | undefined): void {
  process.stdout.write(`${logText(outcome)}\n`);
  if (stopToken !== undefined) {
    process.stdout.write(`::${stopToken}::\n`);
    const annotation = errorAnnotation(outcome);
    if (annotation) process.stdout.write(`${annotation}\n`);
  }
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) appendFileSync(summary, `${summaryMarkdown(outcome)}\n`);
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 3;
  }
  // On GitHub Actions no line printed while text from the status may be in it is a workflow command
  // (a message could otherwise add masks, outputs or annotations): the runner ignores them until the token.
  const stopToken = process.env.GITHUB_ACTIONS === 'true' ? randomUUID() : undefined;
  if (stopToken !== undefined) process.stdout.write(`::stop-commands::${stopToken}\n`);
  const outcome = await waitForVerdict(options);
  report(outcome, stopToken);
  return exitCode(outcome);
}

process.exitCode = await main();
