import { isErrorCode, ScaiError, type ErrorEnvelope } from '@scaibunker/contracts';

/** How the client reaches the API. */
export interface ClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8080`. Defaults to `$SCAIGRID_HOST`. */
  host?: string;
  /** An `sgk_…` API key. Defaults to `$SCAIGRID_API_KEY`. */
  apiKey?: string;
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof fetch;
}

/** One page of a list and the cursor to the next. */
export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

type Query = Record<string, string | number | boolean | undefined>;

/** Sends JSON requests and turns error envelopes back into ScaiErrors with the same code. */
export class HttpTransport {
  private readonly host: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ClientOptions = {}) {
    const host = options.host ?? process.env.SCAIGRID_HOST;
    if (!host) throw new ScaiError('VALIDATION_ERROR', 'No API host: pass `host` or set SCAIGRID_HOST.');
    this.host = host.replace(/\/+$/, '');
    this.apiKey = options.apiKey ?? process.env.SCAIGRID_API_KEY;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Sends a request and returns the envelope's `data`. */
  async data<T>(method: string, path: string, options: { body?: unknown; query?: Query; signal?: AbortSignal } = {}): Promise<T> {
    return ((await this.send(method, path, options)) as { data: T }).data;
  }

  /** Sends a list request and returns the page. */
  async page<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<Page<T>> {
    const { data, has_more, next_cursor } = (await this.send('GET', path, { query, ...(signal ? { signal } : {}) })) as Page<T>;
    return { data, has_more, next_cursor };
  }

  private async send(method: string, path: string, options: { body?: unknown; query?: Query; signal?: AbortSignal }): Promise<unknown> {
    const url = new URL(this.host + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.fetchImpl(url, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ScaiError('INTERNAL', `The server answered ${response.status} with a body that is not JSON.`);
    }
    if (!response.ok) throw fromEnvelope(json as ErrorEnvelope, response.status);
    return json;
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
