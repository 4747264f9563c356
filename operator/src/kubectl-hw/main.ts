#!/usr/bin/env node
/**
 * `kubectl hw`: the kubectl plugin of HelloWorld rollouts (docs/kubectl-plugin.md). kubectl runs any
 * `kubectl-hw` on PATH for `kubectl hw ...`; package.json's `bin` names this file so.
 *
 * Thin on purpose: parsing (args.ts), reading the status (view.ts), printing (render.ts), the --wait
 * verdict (verdict.ts) and the annotation writes (annotate.ts) are pure; this file wires them to the
 * API server (kube.ts), stdout and the exit code.
 */
import { annotationChange, isGateVerb } from './annotate.js';
import { parseCommand, USAGE, UsageError, wantsHelp, type Command } from './args.js';
import { HelloWorlds } from './kube.js';
import { renderHistory, renderStatus } from './render.js';
import { printable, safeJson } from './text.js';
import { EXIT, EXIT_HELP, judgeWait } from './verdict.js';
import { readView, type HelloWorldView } from './view.js';

const out = (text: string): void => {
  process.stdout.write(text);
};
const err = (text: string): void => {
  process.stderr.write(text);
};
/** `-o json` prints the checked view (view.ts), never the raw status: its types are not to be trusted. */
const json = (value: unknown): string => `${safeJson(value, 2)}\n`;
/** A read failed after the first one (kube.ts retries it): said, so a long silence has a reason. */
const retrying = (error: Error): void => {
  err(`retrying: ${printable(error.message, 400)}\n`);
};

async function run(command: Command): Promise<number> {
  const hw = HelloWorlds.connect(command);
  const { name, verb } = command;
  if (isGateVerb(verb)) {
    const change = annotationChange(verb, new Date());
    await hw.annotate(name, change);
    const what =
      change.value === null ? `${change.annotation} removed` : `${change.annotation}=${change.value}`;
    out(`helloworld.hello.dev/${name} annotated: ${what}\n`);
    return EXIT.ok;
  }
  if (verb === 'history') {
    const view = readView(await hw.get(name));
    out(command.output === 'json' ? json(view.history) : renderHistory(view));
    return EXIT.ok;
  }
  if (command.wait) return waitForVerdict(hw, command);
  if (command.watch) return watchStatus(hw, command);
  const view = readView(await hw.get(name));
  out(command.output === 'json' ? json(view) : renderStatus(view));
  return EXIT.ok;
}

/** Redraws on every change until Ctrl-C; a terminal is cleared first, a pipe gets one block per change. */
async function watchStatus(hw: HelloWorlds, command: Command): Promise<number> {
  const stop = new AbortController();
  process.once('SIGINT', () => {
    stop.abort();
  });
  process.once('SIGTERM', () => {
    stop.abort();
  });
  let last = '';
  await hw.follow(
    command.name,
    (object) => {
      const view = readView(object);
      const text = command.output === 'json' ? `${safeJson(view)}\n` : renderStatus(view);
      if (text === last) return;
      last = text;
      if (process.stdout.isTTY && command.output === 'text') out('\x1b[H\x1b[2J');
      else if (command.output === 'text') out('\n');
      out(text);
    },
    stop.signal,
    retrying,
  );
  return EXIT.ok;
}

/** Waits for a verdict on the current generation (verdict.ts); the exit code tells which. */
async function waitForVerdict(hw: HelloWorlds, command: Command): Promise<number> {
  const stop = new AbortController();
  const timer = setTimeout(() => {
    stop.abort();
  }, command.timeoutMs);
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    interrupt.abort();
    stop.abort();
  });
  let code: number | undefined;
  let lastWhy = '';
  let lastView: HelloWorldView | undefined;
  try {
    await hw.follow(
      command.name,
      (object) => {
        if (code !== undefined) return; // the first verdict stands
        const view = readView(object);
        lastView = view;
        const verdict = judgeWait(view);
        if (verdict.kind === 'done') {
          code = verdict.code;
          if (command.output === 'text') err(`${verdict.phase}: ${printable(verdict.why, 400)}\n`);
          stop.abort();
        } else if (verdict.why !== lastWhy) {
          lastWhy = verdict.why;
          err(`waiting: ${printable(verdict.why, 400)}\n`);
        }
      },
      stop.signal,
      retrying,
    );
  } finally {
    clearTimeout(timer);
  }
  if (lastView !== undefined) out(command.output === 'json' ? json(lastView) : renderStatus(lastView));
  if (code !== undefined) return code;
  if (interrupt.signal.aborted) {
    err('interrupted before a verdict\n');
    return EXIT.interrupted;
  }
  err(
    `timed out after ${String(command.timeoutMs / 1000)}s waiting for a verdict; last: ${printable(lastWhy, 400)}\n`,
  );
  return EXIT.timeout;
}

async function main(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    out(`${USAGE}\nExit codes of status --wait (and of every verb):\n${EXIT_HELP}\n`);
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`error: ${printable(error.message, 400)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await run(command);
  } catch (error) {
    err(`error: ${printable(error instanceof Error ? error.message : String(error), 1000)}\n`);
    return EXIT.error;
  }
}

process.exitCode = await main(process.argv.slice(2));
