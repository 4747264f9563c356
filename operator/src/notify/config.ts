/**
 * The operator's notification settings, from the environment, checked at start-up: a default webhook
 * whose URL file is missing or holds no usable URL stops the operator with a message naming the file
 * and the problem (never the URL).
 */
import { readFileSync } from 'node:fs';
import type { BlockList } from 'node:net';
import { ConfigError, readEnum, readInt, readOptionalString } from '#common/env.js';
import type { NotificationFormat } from '../crd/types.js';
import { DEFAULT_LIMITS, type SenderLimits } from './sender.js';
import { blockedRanges, DEFAULT_BLOCKED_CIDRS, parseWebhookUrl, WebhookUrlError } from './url.js';

export interface NotifyConfig {
  defaultWebhook?: { url: URL; format: NotificationFormat };
  /** Address ranges never dialled (NOTIFY_BLOCKED_CIDRS). */
  blocked: BlockList;
  limits: SenderLimits;
}

const FORMATS = ['Json', 'Slack'] as const;

export function loadNotifyConfig(
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): NotifyConfig {
  const file = readOptionalString(env, 'NOTIFY_WEBHOOK_URL_FILE');
  const format = readEnum(env, 'NOTIFY_WEBHOOK_FORMAT', FORMATS, 'Json');
  const limits: SenderLimits = {
    ...DEFAULT_LIMITS,
    timeoutMs: readInt(env, 'NOTIFY_TIMEOUT_MS', DEFAULT_LIMITS.timeoutMs, 100, 60_000),
    maxAttempts: readInt(env, 'NOTIFY_MAX_ATTEMPTS', DEFAULT_LIMITS.maxAttempts, 1, 20),
    retryBaseMs: readInt(env, 'NOTIFY_RETRY_BASE_MS', DEFAULT_LIMITS.retryBaseMs, 10, 600_000),
    retryMaxMs: readInt(env, 'NOTIFY_RETRY_MAX_MS', DEFAULT_LIMITS.retryMaxMs, 10, 3_600_000),
  };
  return {
    ...(file !== undefined && { defaultWebhook: { url: readUrlFile(file, readFile), format } }),
    blocked: readBlocked(readOptionalString(env, 'NOTIFY_BLOCKED_CIDRS')),
    limits,
  };
}

function readUrlFile(path: string, readFile: (path: string) => string): URL {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(
      `NOTIFY_WEBHOOK_URL_FILE: cannot read ${path} (${code}); mount the Secret holding the webhook URL there, or unset it`,
    );
  }
  try {
    return parseWebhookUrl(text);
  } catch (error) {
    if (!(error instanceof WebhookUrlError)) throw error;
    throw new ConfigError(`NOTIFY_WEBHOOK_URL_FILE: the URL in ${path} ${error.message}`);
  }
}

/** Unset: the default ranges; `none`: nothing blocked; else a comma-separated list replacing them. */
function readBlocked(value: string | undefined): BlockList {
  if (value === undefined) return blockedRanges(DEFAULT_BLOCKED_CIDRS);
  if (value.trim() === 'none') return blockedRanges([]);
  const cidrs = value.split(',').map((item) => item.trim());
  try {
    return blockedRanges(cidrs.filter((c) => c !== ''));
  } catch (error) {
    if (!(error instanceof WebhookUrlError)) throw error;
    throw new ConfigError(`NOTIFY_BLOCKED_CIDRS: ${error.message}`);
  }
}
