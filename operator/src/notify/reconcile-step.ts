/**
 * Notifications in a reconcile: before the status is written, the decision's transitions enter
 * status.notifications.pending and the sender's reports are folded in; after it was written, the
 * pending notifications are handed to the sender. Only a pending list the API server stored is ever
 * sent, so a transition whose status write failed is decided, recorded and sent again as one.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import type { ResolvedSpec } from '../crd/defaults.js';
import type { HelloWorld, HelloWorldStatus, NotificationFormat } from '../crd/types.js';
import { setCondition } from '../rollout/conditions.js';
import type { RolloutEvent } from '../rollout/types.js';
import { applyReports, enqueue, notificationsCondition } from './ledger.js';
import type { NotificationSender, WebhookTarget } from './sender.js';
import { notificationsFor } from './transitions.js';

export interface Notifier {
  sender: NotificationSender;
  /** The operator's default webhook (NOTIFY_WEBHOOK_URL_FILE), for HelloWorlds without their own. */
  defaultWebhook?: { url: URL; format: NotificationFormat };
  /** Notifications dropped from a full pending list. */
  onDropped?: (count: number) => void;
}

/** Where the HelloWorld's notifications go; undefined: nowhere (switched off, or no webhook at all). */
export function webhookTarget(
  spec: ResolvedSpec['notifications'],
  defaultWebhook: Notifier['defaultWebhook'],
): WebhookTarget | undefined {
  if (!spec.enabled) return undefined;
  if (spec.webhook) return { kind: 'secret', ...spec.webhook };
  return defaultWebhook && { kind: 'default', ...defaultWebhook };
}

/** The status to write, with this reconcile's transitions and the sender's reports recorded. */
export function recordNotifications(
  notifier: Notifier,
  hw: HelloWorld,
  input: {
    spec: ResolvedSpec;
    events: readonly RolloutEvent[];
    status: HelloWorldStatus;
    now: Date;
    generation: number;
    /** The Deployment the rollout was judged on: its image is the applied revision's. */
    deployment: V1Deployment | undefined;
  },
): HelloWorldStatus {
  const { status, now, generation } = input;
  const others = status.conditions?.filter((c) => c.type !== 'Notifications');
  if (webhookTarget(input.spec.notifications, notifier.defaultWebhook) === undefined) {
    return { ...status, notifications: undefined, conditions: others };
  }
  const image = input.deployment?.spec?.template.spec?.containers[0]?.image ?? input.spec.image;
  const fresh = notificationsFor({ events: input.events, status, now, image });
  // The rollout's decision does not carry the ledger: it is the stored one.
  const { ledger, dropped } = enqueue(hw.status?.notifications, fresh);
  if (dropped.length > 0) notifier.onDropped?.(dropped.length);
  const reports = notifier.sender.reports(hw.metadata.namespace, hw.metadata.name);
  const notifications = applyReports(ledger, reports);
  const condition = notificationsCondition(notifications);
  const conditions = condition ? setCondition(status.conditions, condition, generation, now) : others;
  return { ...status, notifications, conditions };
}

/** After the status was stored (or found unchanged): its pending notifications go to the sender. */
export function handOver(
  notifier: Notifier,
  hw: HelloWorld,
  spec: ResolvedSpec,
  stored: HelloWorldStatus,
): void {
  const { namespace, name } = hw.metadata;
  const target = webhookTarget(spec.notifications, notifier.defaultWebhook);
  if (target === undefined) notifier.sender.forget(namespace, name);
  else notifier.sender.offer({ namespace, name }, target, stored.notifications?.pending ?? []);
}
