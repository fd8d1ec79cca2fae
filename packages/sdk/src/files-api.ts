import { ScaiError } from '@scaibunker/contracts';
import type { BodyBytes, HttpTransport } from './http-transport.js';

/** What a path inside a bunker is. */
export type FileType = 'file' | 'dir' | 'symlink' | 'other';

/** A path's metadata; `mode` is octal text, e.g. `0644`. */
export interface FileStat {
  type: FileType;
  size: number;
  mode: string;
  modified_at: string;
}

/** One entry of a directory listing. */
export interface FileEntry extends FileStat {
  name: string;
}

/** A directory listing (`truncated` when the directory holds more entries than one answer carries). */
export interface FileListing {
  path: string;
  entries: FileEntry[];
  truncated: boolean;
}

/** Options of a file write. */
export interface WriteOptions {
  /** Permission bits, e.g. `0o644`. */
  mode?: number;
  signal?: AbortSignal;
}

const enc = encodeURIComponent;
const filesOf = (id: string) => `/v1/modules/scaibunker/bunkers/${enc(id)}/files`;
const octal = (mode: number | undefined) => (mode === undefined ? undefined : (mode & 0o7777).toString(8).padStart(4, '0'));

/**
 * Files inside a bunker, by absolute path. Reads and writes stream: neither side holds a whole
 * file in memory.
 * @example
 * await client.files.write(id, '/home/user/data.csv', createReadStream('data.csv'), { mode: 0o600 });
 * await pipeline(Readable.fromWeb(await client.files.read(id, '/home/user/out.txt')), createWriteStream('out.txt'));
 */
export class FilesApi {
  constructor(private readonly http: HttpTransport) {}

  /** Writes a file (its parent must exist) from bytes or a stream; answers with the size written. @example await client.files.write(id, '/tmp/a.txt', new TextEncoder().encode('hi')) */
  write(id: string, path: string, data: BodyBytes, options: WriteOptions = {}): Promise<{ path: string; size: number }> {
    return this.http.data('PUT', filesOf(id), { query: { path, mode: octal(options.mode) }, bytes: data, ...(options.signal ? { signal: options.signal } : {}) });
  }

  /** A file's bytes as a stream, which starts once the file is found. @example const text = await new Response(await client.files.read(id, '/etc/hostname')).text() */
  async read(id: string, path: string, options: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.http.request('GET', filesOf(id), { query: { path }, accept: 'application/octet-stream', ...options });
    return response.body ?? new ReadableStream({ start: (controller) => controller.close() });
  }

  /** A directory's entries. @example (await client.files.list(id, '/home/user')).entries.map((e) => e.name) */
  list(id: string, path: string): Promise<FileListing> {
    return this.http.data('GET', filesOf(id), { query: { path, list: true } });
  }

  /** A path's type, size, mode and modification time. @example if ((await client.files.stat(id, '/data')).type === 'dir') … */
  async stat(id: string, path: string): Promise<FileStat> {
    let response: Response;
    try {
      response = await this.http.request('HEAD', filesOf(id), { query: { path } });
    } catch (error) {
      // A HEAD answer has no body to carry the error's code: ask again with a GET to learn it.
      if (!(error instanceof ScaiError)) throw error;
      await this.list(id, path);
      throw error;
    }
    const header = (name: string) => response.headers.get(name) ?? '';
    return {
      type: header('x-file-type') as FileType,
      size: Number(header('content-length') || 0),
      mode: header('x-file-mode'),
      modified_at: new Date(header('last-modified')).toISOString(),
    };
  }

  /** Deletes a file, or a directory (`recursive` when it is not empty). @example await client.files.remove(id, '/tmp/build', { recursive: true }) */
  remove(id: string, path: string, options: { recursive?: boolean } = {}): Promise<{ path: string }> {
    return this.http.data('DELETE', filesOf(id), { query: { path, recursive: options.recursive ? true : undefined } });
  }

  /** Creates a directory and its missing parents. @example await client.files.mkdir(id, '/home/user/a/b', { mode: 0o700 }) */
  mkdir(id: string, path: string, options: { mode?: number } = {}): Promise<{ path: string }> {
    const mode = octal(options.mode);
    return this.http.data('POST', `${filesOf(id)}/mkdir`, { body: { path, ...(mode ? { mode } : {}) } });
  }
}
