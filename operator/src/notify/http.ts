/**
 * One POST to a webhook, bounded: a deadline over the whole exchange (connect, send, answer), at most
 * MAX_RESPONSE_BYTES of the answer read and thrown away, no redirects followed (a redirect could point
 * anywhere, past the address check), and the address dialled checked against the blocked ranges.
 * Errors name what failed, never the URL.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type BlockList, type LookupFunction } from 'node:net';
import { isBlocked, redact } from './url.js';

/** The receiver's answer is not used; reading a little of it lets a keep-alive receiver finish cleanly. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface PostOptions {
  timeoutMs: number;
  blocked: BlockList;
  headers?: Record<string, string>;
}

/** The outcome of one attempt: the HTTP status, or why there was none. */
export type PostResult = { status: number } | { error: string };

export type PostFn = (url: URL, body: string, options: PostOptions) => Promise<PostResult>;

/** DNS lookup that refuses names resolving to a blocked address. */
function guardedLookup(blocked: BlockList): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const refused = addresses.find((a) => isBlocked(blocked, a.address));
      if (refused !== undefined) {
        callback(new Error(`the host resolves to ${refused.address}, a blocked address`), '', 0);
        return;
      }
      if (options.all === true) (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
    });
  };
}

export const postWebhook: PostFn = (url, body, options) =>
  new Promise((resolve) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && isBlocked(options.blocked, host)) {
      resolve({ error: `${host} is a blocked address (NOTIFY_BLOCKED_CIDRS)` });
      return;
    }
    let settled = false;
    const finish = (result: PostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'POST',
      agent: false,
      lookup: guardedLookup(options.blocked),
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'helloworld-operator',
        ...options.headers,
      },
    });
    const timer = setTimeout(() => {
      finish({ error: `no answer within ${String(options.timeoutMs)} ms` });
      request.destroy();
    }, options.timeoutMs);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      let bytes = 0;
      response.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > MAX_RESPONSE_BYTES) {
          finish({ status });
          response.destroy();
        }
      });
      response.on('end', () => {
        finish({ status });
      });
      response.on('error', () => {
        finish({ status });
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      const cause = error.code !== undefined ? `${error.code}: ${error.message}` : error.message;
      finish({ error: redact(cause, url) });
    });
    request.end(body);
  });
