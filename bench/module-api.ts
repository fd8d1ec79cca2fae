/** An API answer as the benches read it. */
export interface Answer {
  status: string;
  // The envelope's data is whatever the route answers; the benches read it as they expect it.
  data?: any;
  error?: { code: string };
}

/** Calls the scaibunker module's routes of a server with one key. */
export function moduleApi(serverUrl: string, key: string): (method: string, path: string, body?: unknown) => Promise<Answer> {
  return async (method, path, body) => {
    const response = await fetch(`${serverUrl}/v1/modules/scaibunker${path}`, {
      method, headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await response.json()) as Answer;
  };
}
