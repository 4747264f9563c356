/**
 * Kubernetes Events about the controller's objects (what `kubectl describe` shows), recorded like client-go's
 * recorder: a repeat of the same (object, type, reason, message) within the window bumps `count` and
 * `lastTimestamp` of the existing Event instead of creating another one. Recording never throws: an
 * Event is a courtesy to humans, never a reason to fail a reconcile.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '#common/logger.js';
import { systemClock, type Clock } from './clock.js';
import { isNotFound, type KubeRest } from './rest.js';

export type EventType = 'Normal' | 'Warning';

/** Anything with an identity: a reconciled object, or one of its children. */
export interface EventSubject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

/** What the reconciler depends on; unit tests can pass a recording fake. */
export interface EventSink {
  record(subject: EventSubject, type: EventType, reason: string, message: string): Promise<void>;
}

export interface EventRecorderOptions {
  rest: KubeRest;
  logger: Logger;
  clock?: Clock;
  /** The controller's name, as `source.component` and `reportingComponent`. */
  component: string;
  /** Identifies this replica in `reportingInstance` (default: the host name). */
  instance?: string;
  /** Repeats within this window are aggregated (default 10 minutes). */
  windowMs?: number;
  /** Bound on remembered Events, oldest forgotten first (default 4096). */
  maxEntries?: number;
}

interface Recorded {
  namespace: string;
  name: string;
  count: number;
  lastSeenMs: number;
}

const REASON = /^[A-Z][A-Za-z0-9]*$/;
const MAX_MESSAGE = 1024;

export class EventRecorder implements EventSink {
  private readonly clock: Clock;
  private readonly component: string;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly recorded = new Map<string, Recorded>();
  /** Per aggregation key, the previous record call, so repeats never race into two Events. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly options: EventRecorderOptions) {
    this.clock = options.clock ?? systemClock;
    this.component = options.component;
    this.windowMs = options.windowMs ?? 10 * 60 * 1000;
    this.maxEntries = options.maxEntries ?? 4096;
  }

  record(subject: EventSubject, type: EventType, reason: string, message: string): Promise<void> {
    const { namespace = 'default', name = '', uid = '' } = subject.metadata ?? {};
    const note = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
    const key = [subject.kind, namespace, name, uid, type, reason, note].join('\u0000');
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const current = previous.then(() => this.write(key, subject, type, reason, note));
    this.inFlight.set(key, current);
    void current.finally(() => {
      if (this.inFlight.get(key) === current) this.inFlight.delete(key);
    });
    return current;
  }

  private async write(
    key: string,
    subject: EventSubject,
    type: EventType,
    reason: string,
    note: string,
  ): Promise<void> {
    const log = this.options.logger;
    if (!REASON.test(reason)) log.warn({ reason }, 'event reasons should be CamelCase');
    const now = this.clock.now();
    const namespace = subject.metadata?.namespace ?? 'default';
    try {
      const seen = this.recorded.get(key);
      if (seen !== undefined && now - seen.lastSeenMs < this.windowMs) {
        const bumped = await this.bump(seen, now);
        if (bumped) return;
      }
      const name = `${subject.metadata?.name ?? 'unknown'}.${now.toString(16)}${randomBytes(2).toString('hex')}`;
      const timestamp = formatTime(now);
      await this.options.rest.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
        body: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
          involvedObject: {
            apiVersion: subject.apiVersion,
            kind: subject.kind,
            name: subject.metadata?.name,
            namespace,
            uid: subject.metadata?.uid,
            resourceVersion: subject.metadata?.resourceVersion,
          },
          type,
          reason,
          message: note,
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.options.instance ?? hostname(),
          firstTimestamp: timestamp,
          lastTimestamp: timestamp,
          count: 1,
        },
      });
      this.remember(key, { namespace, name, count: 1, lastSeenMs: now });
    } catch (error) {
      log.warn(
        { err: error, reason, object: `${namespace}/${subject.metadata?.name ?? ''}` },
        'could not record event',
      );
    }
  }

  /** Increments the count of an Event already created; false when it is gone (expired or deleted). */
  private async bump(seen: Recorded, now: number): Promise<boolean> {
    const path = `/api/v1/namespaces/${encodeURIComponent(seen.namespace)}/events/${encodeURIComponent(seen.name)}`;
    try {
      await this.options.rest.request('PATCH', path, {
        body: { count: seen.count + 1, lastTimestamp: formatTime(now) },
        contentType: 'application/merge-patch+json',
      });
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    seen.count++;
    seen.lastSeenMs = now;
    return true;
  }

  private remember(key: string, entry: Recorded): void {
    this.recorded.delete(key);
    this.recorded.set(key, entry);
    if (this.recorded.size > this.maxEntries) {
      const oldest = this.recorded.keys().next();
      if (oldest.done !== true) this.recorded.delete(oldest.value);
    }
  }
}

/** metav1.Time: RFC 3339 with whole seconds. */
function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
