import { IncomingMessage, ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { appMessageClasses } from './server.js';

describe('appMessageClasses', () => {
  it("makes requests and responses that already have the app's prototypes and work as Node's", async () => {
    const app = express();
    const seen: boolean[] = [];
    app.use((req, res, next) => {
      seen.push(
        Object.getPrototypeOf(req) === app.request,
        Object.getPrototypeOf(res) === app.response,
        req instanceof IncomingMessage,
        res instanceof ServerResponse,
      );
      next();
    });
    app.put('/echo/:name', async (req, res) => {
      let body = '';
      for await (const chunk of req as AsyncIterable<Buffer>) body += chunk.toString();
      res.status(201).set('x-name', req.params.name).json({ path: req.path, body });
    });
    const server = createServer(appMessageClasses(app), app).listen(0, '127.0.0.1');
    // Before Express sees them: made with the app's prototypes, so its switch changes nothing.
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      seen.push(Object.getPrototypeOf(req) === app.request, Object.getPrototypeOf(res) === app.response);
    });
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as AddressInfo;
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/echo/alice?x=1`, { method: 'PUT', body: `b${i}` });
        expect(res.status).toBe(201);
        expect(res.headers.get('x-name')).toBe('alice');
        expect(await res.json()).toEqual({ path: '/echo/alice', body: `b${i}` });
      }
      expect((await fetch(`http://127.0.0.1:${port}/nothing`)).status).toBe(404);
      expect(seen).toHaveLength(24);
      expect(seen.every(Boolean)).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
