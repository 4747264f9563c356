/**
 * The webhook URL is hostile input: a tenant writes it into a Secret, and the operator's network position
 * (inside the cluster, next to node and cloud metadata endpoints) is worth more than the tenant's. Only
 * http and https, no credentials in the URL, and connections to the blocked address ranges are refused
 * (checked on the address actually dialled, so a DNS name that resolves to one is refused too). The URL
 * carries tokens: it never appears in a log, an error or the status.
 */
import { BlockList, isIP } from 'node:net';

/** Longest URL accepted: Slack's are about 80 characters; a long one is likelier an attack than a hook. */
export const MAX_URL_CHARS = 2048;

/**
 * Refused by default: loopback, "this network", link-local (the cloud metadata endpoint 169.254.169.254
 * among them) and their IPv6 forms. Private ranges stay open: in-cluster receivers live there.
 */
export const DEFAULT_BLOCKED_CIDRS = [
  '127.0.0.0/8',
  '0.0.0.0/8',
  '169.254.0.0/16',
  '::1/128',
  '::/128',
  'fe80::/10',
] as const;

export class WebhookUrlError extends Error {}

/** Parses a URL from a Secret or file: trimmed, http(s) only, no user or password; errors never echo it. */
export function parseWebhookUrl(text: string): URL {
  const trimmed = text.trim();
  if (trimmed === '') throw new WebhookUrlError('is empty');
  if (trimmed.length > MAX_URL_CHARS)
    throw new WebhookUrlError(`is longer than ${String(MAX_URL_CHARS)} characters`);
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new WebhookUrlError('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new WebhookUrlError(`has scheme ${url.protocol.slice(0, 16)}; only http: and https: are sent to`);
  if (url.username !== '' || url.password !== '')
    throw new WebhookUrlError('carries a user or password; put the token in the path or query instead');
  if (url.hostname === '') throw new WebhookUrlError('has no host');
  return url;
}

/** A set of blocked address ranges, from CIDR strings like `10.0.0.0/8` or `fe80::/10`. */
export function blockedRanges(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits = ''] = cidr.split('/');
    const family = isIP(address);
    const prefix = Number(bits);
    const max = family === 6 ? 128 : 32;
    if (family === 0 || !/^\d+$/.test(bits) || prefix > max) {
      throw new WebhookUrlError(`"${cidr}" is not a CIDR range such as 10.0.0.0/8 or fe80::/10`);
    }
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** Whether dialling `address` (an IP literal) is refused; IPv4-mapped IPv6 is judged as IPv4. */
export function isBlocked(blocked: BlockList, address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  if (mapped !== undefined) return blocked.check(mapped, 'ipv4');
  const family = isIP(bare);
  if (family === 0) return false;
  return blocked.check(bare, family === 6 ? 'ipv6' : 'ipv4');
}

/** `text` with the URL, its path and its query replaced: Node's errors may quote any of them. */
export function redact(text: string, url: URL): string {
  const secrets = [url.href, `${url.pathname}${url.search}`, url.search].filter((s) => s.length > 1);
  let out = text;
  for (const secret of secrets.sort((a, b) => b.length - a.length))
    out = out.split(secret).join('[redacted]');
  return out;
}
