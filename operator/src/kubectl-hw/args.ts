/**
 * The command line of `kubectl hw`, parsed and checked before any request: a name the API server would
 * refuse could otherwise reach another path of the API (`..`, `/`), so names must be DNS-1123 labels.
 */
import { parseArgs } from 'node:util';
import { isDns1123Label } from '../config.js';

export const VERBS = ['status', 'history', 'promote', 'pause', 'resume', 'abort', 'retry'] as const;
export type Verb = (typeof VERBS)[number];

export interface Command {
  verb: Verb;
  name: string;
  /** -n/--namespace; undefined: the context's namespace, else `default`. */
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  output: 'text' | 'json';
  watch: boolean;
  wait: boolean;
  timeoutMs: number;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: kubectl hw VERB NAME [flags]

Verbs:
  status NAME [-w | --wait [--timeout 10m]] [-o json]
                     phase, canary step, pods per revision, last measurements, conditions needing attention
  history NAME [-o json]
                     the last rollouts (status.history)
  promote NAME       end the current canary step or pause now (sets hello.dev/promote)
  pause NAME         stop the rollout in flight where it is (sets hello.dev/pause)
  resume NAME        let it go on (removes hello.dev/pause)
  abort NAME         roll back the rollout in flight (sets hello.dev/abort)
  retry NAME         roll out a failed revision again (sets hello.dev/retry)

Flags:
  -n, --namespace NS       namespace (default: the context's namespace, else "default")
      --kubeconfig PATH    kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
      --context NAME       kubeconfig context (default: the current context)
  -o, --output json        JSON instead of text (status, history)
  -w, --watch              status: redraw on every change until Ctrl-C
      --wait               status: wait for a verdict on the current generation; the exit code tells it
      --timeout DURATION   with --wait: give up after this long, e.g. 90s, 10m, 1h (default 10m)
`;

const DEFAULT_TIMEOUT = '10m';
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration as kubectl writes them: 90s, 10m, 1h30m, 500ms (a bare number is seconds). */
export function parseTimeout(value: string): number {
  if (/^\d{1,7}$/.test(value)) return Number(value) * 1000;
  const parts = [...value.matchAll(/(\d{1,7})(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((m) => m[0]).join('') !== value) {
    throw new UsageError(`--timeout: "${value}" is not a duration (examples: 90s, 10m, 1h30m)`);
  }
  const ms = parts.reduce((sum, m) => sum + Number(m[1]) * (UNITS[m[2] ?? ''] ?? 0), 0);
  if (ms <= 0) throw new UsageError('--timeout must be more than 0');
  return ms;
}

const dnsLabel = (what: string, value: string): string => {
  if (!isDns1123Label(value)) {
    throw new UsageError(
      `${what} "${value.slice(0, 80)}" is not valid: at most 63 lower-case letters, digits and "-", ` +
        'starting and ending with a letter or digit',
    );
  }
  return value;
};

export function parseCommand(argv: readonly string[]): Command {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [verb, name, ...extra] = positionals;
  if (verb === undefined) throw new UsageError('no verb given');
  if (!(VERBS as readonly string[]).includes(verb))
    throw new UsageError(`unknown verb "${verb.slice(0, 40)}"`);
  if (name === undefined) throw new UsageError(`${verb} needs the name of a HelloWorld`);
  if (extra.length > 0)
    throw new UsageError(`unexpected arguments after the name: ${extra.join(' ').slice(0, 80)}`);
  const output = values.output;
  if (output !== undefined && output !== 'json')
    throw new UsageError(`-o ${output.slice(0, 20)}: only -o json is supported`);
  const reads = verb === 'status' || verb === 'history';
  if (output !== undefined && !reads) throw new UsageError(`-o is for status and history, not ${verb}`);
  if ((values.watch || values.wait) && verb !== 'status')
    throw new UsageError('-w and --wait are for status');
  if (values.watch && values.wait) throw new UsageError('-w and --wait do not go together');
  if (values.timeout !== undefined && !values.wait) throw new UsageError('--timeout goes with --wait');
  const context = values.context;
  if (context === '') throw new UsageError('--context is empty');
  const kubeconfig = values.kubeconfig;
  if (kubeconfig === '') throw new UsageError('--kubeconfig is empty');
  return {
    verb: verb as Verb,
    name: dnsLabel('NAME', name),
    namespace: values.namespace === undefined ? undefined : dnsLabel('--namespace', values.namespace),
    kubeconfig,
    context,
    output: output === 'json' ? 'json' : 'text',
    watch: values.watch === true,
    wait: values.wait === true,
    timeoutMs: parseTimeout(values.timeout ?? DEFAULT_TIMEOUT),
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      output: { type: 'string', short: 'o' },
      watch: { type: 'boolean', short: 'w' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** True when the user asked for the help text (anywhere on the line) or gave nothing at all. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.length === 0 || argv[0] === 'help' || argv.some((a) => a === '-h' || a === '--help');
}
