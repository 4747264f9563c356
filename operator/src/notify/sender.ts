/**
 * The background sender: reconciles hand it the notifications their status holds as pending, and it
 * delivers them off the workers, reporting each outcome back for the next reconcile to record. Bounded
 * everywhere: a queue of at most maxQueued notifications, maxInFlight requests per operator and
 * maxInFlightPerNamespace per namespace (one team's slow receiver holds at most that many of the
 * operator's slots), a deadline per request, and maxAttempts attempts with exponential backoff between.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { BlockList } from 'node:net';
import type { KeyRef, NotificationFormat, PendingNotification } from '../crd/types.js';
import { backoffDelay, type Clock, type TimerHandle } from '../runtime/clock.js';
import { objectKey } from '../runtime/store.js';
import type { PostFn } from './http.js';
import type { DeliveryReport } from './ledger.js';
import { messageBody } from './message.js';
import { parseWebhookUrl, WebhookUrlError } from './url.js';

/** Where one HelloWorld's notifications go: its own Secret's URL, or the operator's default. */
export type WebhookTarget =
  | { kind: 'secret'; secretRef: KeyRef; format: NotificationFormat }
  | { kind: 'default'; url: URL; format: NotificationFormat };

/** What the notifications metric counts: a delivery, a failed attempt retried, a give-up, a drop. */
export type DeliveryOutcome = 'sent' | 'retried' | 'failed' | 'dropped';

export interface SenderLimits {
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxInFlight: number;
  maxInFlightPerNamespace: number;
  maxQueued: number;
}

export const DEFAULT_LIMITS: SenderLimits = {
  timeoutMs: 5_000,
  maxAttempts: 6,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  maxInFlight: 8,
  maxInFlightPerNamespace: 2,
  maxQueued: 1_000,
};

export interface SenderOptions {
  post: PostFn;
  /** A Secret of the HelloWorld's namespace, read from the API server. */
  readSecret: (namespace: string, name: string) => Promise<V1Secret | undefined>;
  blocked: BlockList;
  clock: Clock;
  limits: SenderLimits;
  /** A HelloWorld has new reports: reconcile it, so they reach its status. */
  onReport: (namespace: string, name: string) => void;
  onOutcome?: (outcome: DeliveryOutcome) => void;
}

interface Job {
  namespace: string;
  name: string;
  note: PendingNotification;
  state: 'ready' | 'waiting' | 'inFlight' | 'done';
  attempts: number;
  timer?: TimerHandle;
  report?: DeliveryReport;
}

interface Instance {
  target: WebhookTarget;
  jobs: Map<string, Job>;
}

/** Answers worth trying again: the receiver may recover. Other 4xx answers will not change. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

export class NotificationSender {
  private readonly instances = new Map<string, Instance>();
  private readonly ready: Job[] = [];
  private readonly inFlightByNamespace = new Map<string, number>();
  private inFlight = 0;
  private queued = 0;
  private stopped = false;

  constructor(private readonly options: SenderOptions) {}

  /**
   * The notifications a HelloWorld's stored status holds as pending, and where they go. New ones are
   * queued; those no longer pending (recorded as done) are forgotten. Never waits on the network.
   */
  offer(
    hw: { namespace: string; name: string },
    target: WebhookTarget,
    pending: readonly PendingNotification[],
  ): void {
    const key = objectKey(hw.namespace, hw.name);
    const instance = this.instances.get(key) ?? { target, jobs: new Map<string, Job>() };
    instance.target = target;
    this.instances.set(key, instance);
    const ids = new Set(pending.map((p) => p.id));
    for (const [id, job] of instance.jobs)
      if (!ids.has(id) && job.state !== 'inFlight') this.drop(instance, job);
    for (const note of pending) {
      if (instance.jobs.has(note.id)) continue;
      const job: Job = { ...hw, note, state: 'ready', attempts: note.attempts ?? 0 };
      instance.jobs.set(note.id, job);
      if (this.queued >= this.options.limits.maxQueued) {
        this.conclude(job, 'gaveUp', `the operator's notification queue is full (${String(this.queued)})`);
        this.options.onOutcome?.('dropped');
        continue;
      }
      this.queued++;
      this.ready.push(job);
    }
    this.pump();
  }

  /** What happened to a HelloWorld's pending notifications since they were offered. */
  reports(namespace: string, name: string): DeliveryReport[] {
    const jobs = this.instances.get(objectKey(namespace, name))?.jobs.values() ?? [];
    return [...jobs].flatMap((job) => (job.report ? [job.report] : []));
  }

  /** The HelloWorld is gone, or sends nothing any more. */
  forget(namespace: string, name: string): void {
    const key = objectKey(namespace, name);
    const instance = this.instances.get(key);
    if (!instance) return;
    for (const job of instance.jobs.values()) this.drop(instance, job);
    this.instances.delete(key);
  }

  /** Stops scheduling; requests in flight end by their deadline. */
  stop(): void {
    this.stopped = true;
    for (const instance of this.instances.values())
      for (const job of instance.jobs.values()) this.drop(instance, job);
  }

  private drop(instance: Instance, job: Job): void {
    if (job.timer !== undefined) this.options.clock.clearTimeout(job.timer);
    if (job.state === 'ready' || job.state === 'waiting') this.queued--;
    const at = this.ready.indexOf(job);
    if (at >= 0) this.ready.splice(at, 1);
    job.state = 'done';
    instance.jobs.delete(job.note.id);
  }

  /** Starts what the limits allow, oldest first, skipping namespaces at their own limit. */
  private pump(): void {
    const { maxInFlight, maxInFlightPerNamespace } = this.options.limits;
    for (let i = 0; i < this.ready.length && this.inFlight < maxInFlight && !this.stopped;) {
      const job = this.ready[i];
      if (job === undefined) break;
      const busy = this.inFlightByNamespace.get(job.namespace) ?? 0;
      if (busy >= maxInFlightPerNamespace) {
        i++;
        continue;
      }
      this.ready.splice(i, 1);
      this.queued--;
      job.state = 'inFlight';
      this.inFlight++;
      this.inFlightByNamespace.set(job.namespace, busy + 1);
      void this.attempt(job).finally(() => {
        this.inFlight--;
        this.inFlightByNamespace.set(job.namespace, (this.inFlightByNamespace.get(job.namespace) ?? 1) - 1);
        this.pump();
      });
    }
  }

  private async attempt(job: Job): Promise<void> {
    const instance = this.instances.get(objectKey(job.namespace, job.name));
    if (!instance) return;
    const { target } = instance;
    let outcome: { ok: true } | { ok: false; error: string; retry: boolean };
    try {
      const url = await this.resolve(job.namespace, target);
      const body = messageBody(target.format, job, job.note);
      const headers = { 'x-helloworld-notification-id': job.note.id };
      const { timeoutMs, blocked } = { ...this.options.limits, blocked: this.options.blocked };
      const result = await this.options.post(url, body, { timeoutMs, blocked, headers });
      if ('error' in result) outcome = { ok: false, error: result.error, retry: true };
      else if (result.status >= 200 && result.status < 300) outcome = { ok: true };
      else {
        const retry = result.status >= 500 || RETRYABLE_4XX.has(result.status);
        outcome = { ok: false, error: `the webhook answered HTTP ${String(result.status)}`, retry };
      }
    } catch (error) {
      outcome = { ok: false, error: error instanceof Error ? error.message : String(error), retry: true };
    }
    if (instance.jobs.get(job.note.id) !== job) return; // forgotten meanwhile
    const where = target.kind === 'secret' ? `webhook of Secret ${target.secretRef.name}` : 'default webhook';
    if (outcome.ok) {
      this.conclude(job, 'sent');
      this.options.onOutcome?.('sent');
      return;
    }
    job.attempts++;
    const error = `${where}: attempt ${String(job.attempts)} of ${String(this.options.limits.maxAttempts)}: ${outcome.error}`;
    if (!outcome.retry || job.attempts >= this.options.limits.maxAttempts) {
      this.conclude(job, 'gaveUp', error);
      this.options.onOutcome?.('failed');
      return;
    }
    this.options.onOutcome?.('retried');
    const { retryBaseMs, retryMaxMs } = this.options.limits;
    const delay = backoffDelay(job.attempts - 1, retryBaseMs, retryMaxMs);
    job.state = 'waiting';
    this.queued++;
    job.report = { id: job.note.id, outcome: 'retrying', at: this.now(), attempts: job.attempts, error };
    job.timer = this.options.clock.setTimeout(() => {
      job.timer = undefined;
      if (job.state !== 'waiting') return;
      job.state = 'ready';
      this.ready.push(job);
      this.pump();
    }, delay);
    this.options.onReport(job.namespace, job.name);
  }

  private conclude(job: Job, outcome: 'sent' | 'gaveUp', error = ''): void {
    job.state = 'done';
    job.report =
      outcome === 'sent'
        ? { id: job.note.id, outcome, at: this.now() }
        : { id: job.note.id, outcome, at: this.now(), attempts: job.attempts, error };
    this.options.onReport(job.namespace, job.name);
  }

  private now(): string {
    return new Date(this.options.clock.now()).toISOString();
  }

  /** The URL to post to; for a Secret, read at every attempt, so a fixed Secret is used at once. */
  private async resolve(namespace: string, target: WebhookTarget): Promise<URL> {
    if (target.kind === 'default') return target.url;
    const { name, key } = target.secretRef;
    const secret = await this.options.readSecret(namespace, name);
    if (!secret) throw new Error(`Secret ${name} does not exist`);
    const encoded = secret.data?.[key];
    if (encoded === undefined) throw new Error(`Secret ${name} has no key ${key}`);
    try {
      return parseWebhookUrl(Buffer.from(encoded, 'base64').toString('utf8'));
    } catch (error) {
      if (error instanceof WebhookUrlError)
        throw new Error(`Secret ${name} key ${key} ${error.message}`, { cause: error });
      throw error;
    }
  }
}
