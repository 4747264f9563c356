/**
 * The HTTP server around the app: listening, socket-level errors, and the graceful shutdown that lets a
 * rolling update lose no request.
 */
import { IncomingMessage, STATUS_CODES, ServerResponse, createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Express } from 'express';
import type { Logger } from '#common/logger.js';
import type { BirthdayStore } from './store.js';

export interface MutableLifecycle {
  shuttingDown: boolean;
  starting?: boolean;
}

export interface ServerOptions {
  readonly app: Express;
  readonly lifecycle: MutableLifecycle;
  readonly store: BirthdayStore;
  readonly logger: Logger;
  readonly port: number;
  readonly host?: string;
  readonly shutdownDrainMs: number;
  readonly shutdownTimeoutMs: number;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** Runs the shutdown sequence once (later calls share it); resolves with the exit code. */
  shutdown(reason: string): Promise<number>;
}

/** Errors Node raises before a request reaches Express (bad framing, oversized headers) still get JSON. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431
      ? 'The request headers are too large.'
      : status === 408
        ? 'The request took too long to arrive.'
        : 'The request is not valid HTTP.';
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * Node's request and response classes, making objects whose prototypes are already the app's request
 * and response (Node's own, under Express's methods). Express switches the prototype of every request
 * and response it is handed; on objects made with the right one from the start the switch finds
 * nothing to do, instead of moving both objects to new hidden classes each time.
 */
export function appMessageClasses(app: Express): {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
} {
  function AppRequest(...args: unknown[]): object {
    return Reflect.construct(IncomingMessage, args, AppRequest) as object;
  }
  AppRequest.prototype = app.request;
  function AppResponse(...args: unknown[]): object {
    return Reflect.construct(ServerResponse, args, AppResponse) as object;
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof ServerResponse,
  };
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { app, lifecycle, store, logger, shutdownDrainMs, shutdownTimeoutMs } = options;
  const server = createServer(appMessageClasses(app), app);
  // Longer than the 60 s idle timeout of common load balancers, so the client side closes idle
  // connections first and never sends on a socket we are closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.on('clientError', answerClientError);
  // Once lifecycle.shuttingDown is set, the app adds `connection: close` to every response it starts
  // writing, those in progress when SIGTERM arrives included (see createApp).

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'listening');

  let shutdownResult: Promise<number> | undefined;
  const sequence = async (reason: string): Promise<number> => {
    lifecycle.shuttingDown = true;
    logger.info({ reason, drainMs: shutdownDrainMs }, 'shutting down: readiness is 503, still serving');
    await sleep(shutdownDrainMs);
    logger.info('drain delay over: closing the listener and finishing in-flight requests');
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      // Keep-alive sockets whose last response predates the shutdown go idle one by one; close them as
      // they do. Sockets with a request in flight are closed after it by the `connection: close` header.
      server.closeIdleConnections();
      const sweep = setInterval(() => {
        server.closeIdleConnections();
      }, 50);
      server.once('close', () => {
        clearInterval(sweep);
      });
    });
    await store.close();
    logger.info('shutdown complete');
    return 0;
  };

  return {
    server,
    port,
    shutdown(reason) {
      shutdownResult ??= Promise.race([
        sequence(reason),
        sleep(shutdownTimeoutMs, undefined, { ref: false }).then(() => {
          logger.error({ timeoutMs: shutdownTimeoutMs }, 'shutdown timed out: dropping open connections');
          server.closeAllConnections();
          return 1;
        }),
      ]);
      return shutdownResult;
    },
  };
}
