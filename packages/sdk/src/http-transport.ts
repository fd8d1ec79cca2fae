import { isErrorCode, ScaiError, type ErrorEnvelope } from '@scaibunker/contracts';
import { readNdjson } from './read-ndjson.js';
import { streamUpload } from './stream-upload.js';

/** How the client reaches the API. */
export interface ClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080`. Defaults to `$SCAIGRID_HOST`. */
  host?: string;
  /** An `sgk_…` API key. Defaults to `$SCAIGRID_API_KEY`. */
  apiKey?: string;
  /** A fetch implementation (defaults to the global one, and to node:http for streamed uploads). */
  fetch?: typeof fetch;
}

/** One page of a list and the cursor to the next. */
export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** Bytes a request may stream as its body: whole, a web stream, or any async iterable (a Node Readable). */
export type BodyBytes = Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

type Query = Record<string, string | number | boolean | undefined>;

/** What one request sends: a JSON body or raw bytes, query parameters, the media type wanted back. */
export interface RequestOptions {
  query?: Query;
  /** Sent as JSON. A request without a body sends no content-type (the server refuses an empty JSON body). */
  body?: unknown;
  /** Sent as the raw body (streamed when it is a stream), as application/octet-stream. */
  bytes?: BodyBytes;
  accept?: string;
  signal?: AbortSignal;
}

/** Sends requests and turns error envelopes back into ScaiErrors with the same code. */
export class HttpTransport {
  private readonly host: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly customFetch: boolean;

  constructor(options: ClientOptions = {}) {
    const host = options.host ?? process.env.SCAIGRID_HOST;
    if (!host) throw new ScaiError('VALIDATION_ERROR', 'No API host: pass `host` or set SCAIGRID_HOST.');
    this.host = host.replace(/\/+$/, '');
    this.apiKey = options.apiKey ?? process.env.SCAIGRID_API_KEY;
    this.fetchImpl = options.fetch ?? fetch;
    this.customFetch = options.fetch !== undefined;
  }

  /** Sends a request and returns the envelope's `data`. */
  async data<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return ((await this.json(method, path, options)) as { data: T }).data;
  }

  /** Sends a list request and returns the page. */
  async page<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<Page<T>> {
    const { data, has_more, next_cursor } = (await this.json('GET', path, { query, ...(signal ? { signal } : {}) })) as Page<T>;
    return { data, has_more, next_cursor };
  }

  /** Sends a request answered with NDJSON and yields each line's value as it arrives. */
  async *ndjson<T>(method: string, path: string, options: RequestOptions = {}): AsyncGenerator<T> {
    const response = await this.request(method, path, { ...options, accept: 'application/x-ndjson' });
    if (!response.body) return;
    yield* readNdjson<T>(response.body);
  }

  /** Sends a request and returns the successful response unread; an error answer throws its ScaiError. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json', ...this.authorization() };
    let body: RequestInit['body'];
    let stream: AsyncIterable<Uint8Array> | undefined;
    if (options.bytes instanceof Uint8Array) {
      headers['content-type'] = 'application/octet-stream';
      body = options.bytes;
    } else if (options.bytes !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      stream = options.bytes as AsyncIterable<Uint8Array>;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const url = this.url(path, options.query);
    let response: Response;
    if (stream && !this.customFetch) {
      response = await streamUpload(url, { method, headers, body: stream, signal: options.signal });
    } else {
      response = await this.fetchImpl(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        // A streamed body needs half duplex: the answer may only be read once it is all sent.
        ...(stream ? { body: stream, duplex: 'half' } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      } as RequestInit);
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  /** The absolute URL of an API path with its query parameters. */
  url(path: string, query: Query = {}): URL {
    const url = new URL(this.host + path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return url;
  }

  /** The Authorization header, when there is a key. */
  authorization(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async json(method: string, path: string, options: RequestOptions): Promise<unknown> {
    const response = await this.request(method, path, options);
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new ScaiError('INTERNAL', `The server answered ${response.status} with a body that is not JSON.`);
    }
  }
}

/** The ScaiError an error answer carries in its envelope (or, without one, an INTERNAL naming the status). */
export async function errorOf(response: { status: number; text(): Promise<string> }): Promise<ScaiError> {
  const text = await response.text().catch(() => '');
  try {
    return fromEnvelope(JSON.parse(text) as ErrorEnvelope, response.status);
  } catch {
    return new ScaiError('INTERNAL', `The server answered ${response.status} with a body that is not JSON.`);
  }
}

function fromEnvelope(envelope: ErrorEnvelope, status: number): ScaiError {
  const error = envelope?.error;
  const code = error && isErrorCode(error.code) ? error.code : 'INTERNAL';
  return new ScaiError(code, error?.message ?? `HTTP ${status}`, {
    ...(error?.details ? { details: error.details } : {}),
    ...(error?.retry_after !== undefined ? { retryAfterS: error.retry_after } : {}),
    ...(envelope?.meta?.request_id ? { requestId: envelope.meta.request_id } : {}),
  });
}
