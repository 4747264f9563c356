/**
 * Reads a request body as JSON, whatever its Content-Type: the contract parses every PUT body as JSON.
 * A small reader rather than body-parser: the PUT path is hot, and all it needs is a size limit,
 * optional decompression, UTF-8 and JSON.parse. Every failure is an HttpError (400 or 413).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { HttpError } from './errors.js';

const decoders: Readonly<Record<string, (() => NodeJS.ReadWriteStream) | undefined>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `The request body is larger than ${limit / 1024} KiB.`);
}

/** The charset parameter of a Content-Type, lower-cased; undefined when absent. */
function charsetOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const match = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType);
  return match?.[1]?.toLowerCase();
}

/** Decompresses according to Content-Encoding; a broken client stream ends the decoder too. */
function decoded(req: IncomingMessage): Readable {
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return req;
  const create = decoders[encoding];
  if (!create) throw new HttpError(400, 'The request body uses an unsupported Content-Encoding.');
  const decoder = create() as unknown as Readable & NodeJS.WritableStream;
  req.pipe(decoder);
  req.once('close', () => {
    if (!req.complete) decoder.destroy(new Error('request aborted'));
  });
  return decoder;
}

/** The parsed body, or undefined for an empty one. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const charset = charsetOf(req.headers['content-type']);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpError(400, 'The request body must be JSON encoded as UTF-8.');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit && req.headers['content-encoding'] === undefined) {
    throw tooLarge(limit); // refuse before reading: the limit holds for the bytes as sent
  }

  const stream = decoded(req);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      // Counted after decompression, so a small compressed bomb is refused as well.
      if (size > limit) throw tooLarge(limit);
      chunks.push(chunk);
    }
  } catch (err) {
    if (stream !== req) req.unpipe();
    if (err instanceof HttpError) throw err;
    throw new HttpError(
      400,
      stream === req ? 'The request body could not be read.' : 'The request body could not be decompressed.',
    );
  }

  const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))?.toString('utf8') ?? '';
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON.');
  }
}
