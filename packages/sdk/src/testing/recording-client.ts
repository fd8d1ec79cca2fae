import { ScaiBunkerClient } from '../client.js';

/** One request as the stand-in fetch saw it. */
export interface Sent {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
}

/**
 * A client whose fetch (a named stand-in: no server) records each request and answers with
 * the next scripted envelope, `{ status: 'ok', data: {} }` once the script runs out.
 */
export function recordingClient(answers: Array<{ status?: number; json: unknown }>): { client: ScaiBunkerClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const fetchImpl = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    sent.push({ method: init.method ?? 'GET', url: new URL(String(input)), headers: { ...(init.headers as Record<string, string>) }, body: init.body as string | undefined });
    const answer = answers.shift() ?? { json: { status: 'ok', data: {} } };
    return new Response(JSON.stringify(answer.json), { status: answer.status ?? 200, headers: { 'content-type': 'application/json' } });
  };
  return { client: new ScaiBunkerClient({ host: 'http://api.test/', apiKey: 'sgk_test', fetch: fetchImpl as typeof fetch }), sent };
}
