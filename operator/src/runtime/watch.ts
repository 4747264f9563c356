/**
 * Watch streams over node's http(s) with the connection's agent and credentials: one JSON event per
 * line, handed to the informer as it arrives. Behaves as client-node's Watch, whose shape the
 * informer's Watcher interface has: `done` is called once, with null when the server ended the
 * stream, an error carrying `statusCode` when the watch was refused (410 Gone among them), or an
 * Error named TimeoutError when nothing arrived for `idleTimeoutMs` (the informer resumes from the
 * last resourceVersion then; a bookmark or an event resets the clock).
 */
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Connection } from './connection.js';
import type { Watcher } from './informer.js';
import { apiUrl, toConnection, transportOf } from './rest.js';

/** A refused watch: the HTTP status and the API server's message. */
export class WatchError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'WatchError';
  }
}

export class HttpWatcher implements Watcher {
  private readonly connection: Connection;

  constructor(
    target: Connection | KubeConfig,
    private readonly idleTimeoutMs = 30_000,
  ) {
    this.connection = toConnection(target);
  }

  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, obj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const url = apiUrl(this.connection, path, { ...query, watch: true });
    const controller = new AbortController();
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      controller.abort();
      done(err);
    };
    const idle = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const error = new Error(`no watch event for ${String(this.idleTimeoutMs)} ms`);
        error.name = 'TimeoutError';
        finish(error);
      }, this.idleTimeoutMs);
      timer.unref();
    };
    try {
      const { agent, headers } = await this.connection.authenticate();
      idle();
      const request = transportOf(url).request(url, {
        method: 'GET',
        agent,
        headers: { ...headers, Accept: 'application/json' },
        signal: controller.signal,
      });
      request.on('error', (error) => {
        finish(error);
      });
      request.on('response', (response) => {
        if (response.statusCode !== 200) {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8').slice(0, 500);
            finish(
              new WatchError(
                response.statusCode ?? 0,
                `watch ${path}: ${String(response.statusCode)} ${text}`,
              ),
            );
          });
          response.on('error', finish);
          return;
        }
        idle();
        response.on('data', idle);
        response.on('error', finish);
        const lines = createInterface({ input: response, crlfDelay: Infinity });
        // readline passes on the stream's errors (e.g. "aborted" when the watch is stopped).
        lines.on('error', finish);
        // The server ended the stream (its timeoutSeconds passed): every line was handed on by now.
        lines.on('close', () => {
          finish(null);
        });
        response.on('close', () => {
          finish(response.complete ? null : new Error(`watch ${path}: the connection closed`));
        });
        lines.on('line', (line) => {
          if (line === '') return;
          let event: { type?: string; object?: unknown };
          try {
            event = JSON.parse(line) as { type?: string; object?: unknown };
          } catch {
            return; // not an event; the stream goes on
          }
          callback(event.type ?? '', event.object);
        });
      });
      request.end();
    } catch (error) {
      finish(error);
    }
    return controller;
  }
}
