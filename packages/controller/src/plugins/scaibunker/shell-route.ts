import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { WebSocket } from 'ws';
import { BunkerParams, ScaiError } from '@scaibunker/contracts';
import type { BunkerRow, Repositories } from '@scaibunker/db';
import type { Actor } from '@scaibunker/core';
import type { BunkerService } from '../../bunkers/bunker-service.js';
import { actorOf } from '../../http/request-context.js';
import { noteTarget } from '../../http/tenant-scope.js';

const ShellQuery = Type.Object({
  session: Type.Optional(Type.String({ pattern: '^[0-9a-f]{24}$', description: 'Reattach to a shell whose socket dropped; its recent output is replayed.' })),
  cols: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 80 })),
  rows: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 24 })),
  user: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_-]{0,31}$|^[0-9]{1,10}$' })),
}, { additionalProperties: false });

/** Above this much unsent terminal output to a client, the shell's output is paused. */
const SOCKET_HIGH_WATER = 1024 * 1024;

/**
 * The WebSocket shell (spec §4): binary frames carry terminal bytes both ways; text frames
 * carry JSON control: from the client `{"type":"resize","cols","rows"}`, from the server
 * `{"type":"session","id"}` first and `{"type":"exit",…}` last. The PTY outlives its socket:
 * `?session=` reattaches and replays its recent output. Every check (key, module, the
 * bunker, `scaibunker:shell`) runs before the upgrade, so a refusal is a plain error envelope.
 */
export const shellRoute: FastifyPluginAsyncTypebox<{ repos: Repositories; bunkers: BunkerService }> = async (app, { repos, bunkers }) => {
  const checked = new WeakMap<object, { actor: Actor; bunker: BunkerRow }>();

  app.route({
    method: 'GET',
    url: '/bunkers/:bunker_id/shell',
    schema: { tags: ['shell'], summary: 'An interactive shell on a PTY, over a WebSocket (see the description of the frames in docs)', params: BunkerParams, querystring: ShellQuery },
    preValidation: async (request) => {
      const actor = actorOf(request);
      const { bunker_id: bunkerId } = request.params as { bunker_id: string };
      const bunker = await bunkers.visible(actor, bunkerId);
      noteTarget(request, 'bunker', bunker.id, await repos.tenants.get(bunker.tenant_id));
      bunkers.requireActing(actor, bunker, 'scaibunker:shell');
      const { user } = request.query as { user?: string };
      if ((user === 'root' || user === '0') && !actor.permissions.has('scaibunker:root')) throw new ScaiError('AUTHZ_PERMISSION_DENIED', 'A root shell needs scaibunker:root.');
      if (bunker.status !== 'running') throw new ScaiError('BUNKER_NOT_RUNNING', `The bunker is ${bunker.status}.`);
      checked.set(request, { actor, bunker });
    },
    handler: async () => { throw new ScaiError('UPGRADE_REQUIRED', 'The shell is a WebSocket: connect with an Upgrade request.'); },
    wsHandler: (socket, request) => {
      const { actor, bunker } = checked.get(request)!;
      const query = request.query as { session?: string; cols?: number; rows?: number; user?: string };
      void serveShell(socket, bunkers, actor, bunker, query, request.id).catch((error: unknown) => {
        const scai = error instanceof ScaiError ? error : new ScaiError('INTERNAL', 'The shell could not be opened.');
        if (!(error instanceof ScaiError)) request.log.error({ err: error }, 'shell failed');
        sendControl(socket, { type: 'error', code: scai.code, message: scai.message });
        socket.close(1011, scai.code);
      });
    },
  });
};

function sendControl(socket: WebSocket, message: object): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

async function serveShell(socket: WebSocket, bunkers: BunkerService, actor: Actor, bunker: BunkerRow, query: { session?: string; cols?: number; rows?: number; user?: string }, requestId: string): Promise<void> {
  const workerId = bunker.worker_id!;
  // Keystrokes that arrive while the shell opens are held by ws until we listen.
  socket.pause();
  const { session, terminal } = await bunkers.gateway.attachShell(workerId, bunker.id, {
    session: query.session, cols: query.cols, rows: query.rows, user: query.user, env: JSON.parse(bunker.env_vars) as Record<string, string>,
  });
  await bunkers.shellOpened(actor, bunker, requestId);
  terminal.on('error', () => undefined);
  sendControl(socket, { type: 'session', id: session });

  // Guest → client, paused while the client's socket has too much unsent.
  terminal.on('data', (chunk: Buffer) => {
    socket.send(chunk, { binary: true }, () => { if (socket.bufferedAmount < SOCKET_HIGH_WATER) terminal.resume(); });
    if (socket.bufferedAmount >= SOCKET_HIGH_WATER) terminal.pause();
  });
  terminal.once('end', () => {
    void bunkers.gateway.shellStatus(workerId, bunker.id, session).then(
      (status) => { if (status.exit) sendControl(socket, { type: 'exit', ...status.exit }); },
      () => undefined,
    ).finally(() => socket.close(1000, 'shell ended'));
  });

  // Client → guest: terminal bytes, or JSON control in text frames.
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      if (!terminal.write(data)) {
        socket.pause();
        terminal.once('drain', () => socket.resume());
      }
      void bunkers.touch(bunker.id);
      return;
    }
    let control: { type?: unknown; cols?: unknown; rows?: unknown };
    try {
      control = JSON.parse(data.toString('utf8')) as typeof control;
    } catch {
      return sendControl(socket, { type: 'error', code: 'VALIDATION_ERROR', message: 'A text frame must be JSON control, e.g. {"type":"resize","cols":120,"rows":40}.' });
    }
    const size = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1000;
    if (control.type === 'resize' && size(control.cols) && size(control.rows)) {
      void bunkers.gateway.resizeShell(workerId, bunker.id, session, control.cols as number, control.rows as number).catch(() => undefined);
    } else {
      sendControl(socket, { type: 'error', code: 'VALIDATION_ERROR', message: 'Unknown control: send {"type":"resize","cols","rows"} with sizes 1–1000.' });
    }
  });
  // The socket going away detaches; the shell lives on for a reattach with ?session=.
  socket.once('close', () => terminal.destroy());
  socket.resume();
}
