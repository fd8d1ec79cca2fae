import { request } from 'node:http';
import { stat } from 'node:fs/promises';
import { ScaiError } from '@scaibunker/contracts';

/** Calls that return at once; a snapshot of a large guest takes its own, longer, timeout. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** An answer is a `fault_message` or a small configuration document: more is not Firecracker. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * A minimal client for Firecracker's REST API (src/firecracker/swagger/firecracker.yaml),
 * which it serves as HTTP/1.1 on the unix socket given by `--api-sock`. One connection per
 * call: there are a handful per VM, and nothing to keep alive between them.
 */
export class FirecrackerApi {
  constructor(readonly socketPath: string) {}

  /** Waits for Firecracker to create its API socket (it binds and listens in one step). */
  static async waitForSocket(socketPath: string, timeoutMs: number): Promise<FirecrackerApi> {
    const deadline = Date.now() + timeoutMs;
    while (!(await stat(socketPath).then((s) => s.isSocket(), () => false))) {
      if (Date.now() >= deadline) throw new ScaiError('VM_BOOT_FAILED', `Firecracker's API socket ${socketPath} did not appear within ${timeoutMs} ms.`);
      await new Promise((r) => setTimeout(r, 2));
    }
    return new FirecrackerApi(socketPath);
  }

  put(path: string, body: object, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.call('PUT', path, body, timeoutMs);
  }

  patch(path: string, body: object, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.call('PATCH', path, body, timeoutMs);
  }

  /** Resolves on 2xx (PUT and PATCH answer 204, no body); rejects with Firecracker's fault. */
  private call(method: string, path: string, body: object, timeoutMs: number): Promise<void> {
    const payload = Buffer.from(JSON.stringify(body));
    const what = `${method} ${path}`;
    return new Promise((resolve, reject) => {
      const failed = (error: Error) => reject(new ScaiError('INTERNAL', `Firecracker API ${what} failed: ${error.message}`, { cause: error }));
      const req = request({
        socketPath: this.socketPath, method, path, agent: false, timeout: timeoutMs,
        // An explicit length: Firecracker's HTTP server (micro_http) reads bodies by
        // Content-Length and does not take chunked requests.
        headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Content-Length': payload.length },
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('error', failed);
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) req.destroy(new Error(`answer larger than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new ScaiError('INTERNAL', `Firecracker refused ${what} (HTTP ${status}): ${faultMessage(Buffer.concat(chunks).toString('utf8'))}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', failed);
      req.end(payload);
    });
  }
}

/** The `fault_message` of an error body (the swagger's `Error`), else the raw text, cut short. */
function faultMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { fault_message?: unknown };
    if (typeof parsed.fault_message === 'string') return parsed.fault_message.slice(0, 1000);
  } catch {
    // Not JSON: report what came.
  }
  return text.trim().slice(0, 200) || '(no fault message)';
}
