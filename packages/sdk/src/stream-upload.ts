import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A request whose body streams from `body`. */
export interface StreamUploadInit {
  method: string;
  headers: Record<string, string>;
  body: AsyncIterable<Uint8Array>;
  signal?: AbortSignal | undefined;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * Sends a request with a streamed body through node:http(s) and answers a fetch Response.
 * fetch (undici) keeps every chunk of a streamed request body until the request ends
 * (nodejs/undici#4058), so a 1 GiB upload would hold 1 GiB; node:http writes each chunk as
 * the socket drains and lets it go.
 */
export function streamUpload(url: URL, init: StreamUploadInit): Promise<Response> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, { method: init.method, headers: init.headers, ...(init.signal ? { signal: init.signal } : {}) }, (response) => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      const status = response.statusCode ?? 502;
      const body = NULL_BODY_STATUSES.has(status) ? null : (Readable.toWeb(response) as unknown as ReadableStream<Uint8Array>);
      if (!body) response.resume();
      resolve(new Response(body, { status, headers }));
    });
    request.once('error', reject);
    // A server that answers before reading everything (a refusal) ends the upload early: the
    // answer, already resolved, is what counts.
    pipeline(Readable.from(init.body, { objectMode: false }), request).catch(reject);
  });
}
