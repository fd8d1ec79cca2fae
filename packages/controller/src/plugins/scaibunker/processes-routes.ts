import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { BunkerParams, Ok, ProcessInfo, ProcessParams, ScaiError, SignalBody, StdinBody, StdinStreamQuery } from '@scaibunker/contracts';
import type { Repositories } from '@scaibunker/db';
import type { BunkerService } from '../../bunkers/bunker-service.js';
import { ok } from '../../http/envelope.js';
import { withErrors } from '../../http/route-schema.js';
import { bunkerTarget } from './bunker-target.js';

const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGWINCH: 28,
};

const OutputQuery = Type.Object({ follow: Type.Optional(Type.Boolean({ description: 'Keep the stream open until the process exits.' })) }, { additionalProperties: false });

/**
 * Processes started through exec (spec §4, ours): list them, read a background process's
 * output (what is kept, then live with ?follow=true) from any later request, signal them,
 * and write their stdin.
 */
export const processesRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories; bunkers: BunkerService }> = async (app, { repos, bunkers }) => {
  const tags = ['processes'];

  const target = (request: FastifyRequest, bunkerId: string) => bunkerTarget(request, repos, bunkers, bunkerId);

  app.get('/bunkers/:bunker_id/processes', {
    schema: { tags, summary: 'Processes started through the API (running, and the last ones that ended)', params: BunkerParams, response: withErrors({ 200: Ok(Type.Array(ProcessInfo)) }) },
  }, async (request) => {
    const { actor, bunker } = await target(request, request.params.bunker_id);
    return ok(await bunkers.processes(actor, bunker, (workerId) => bunkers.gateway.listProcesses(workerId, bunker.id)));
  });

  app.get('/bunkers/:bunker_id/processes/:pid/output', {
    schema: {
      tags, params: ProcessParams, querystring: OutputQuery,
      summary: 'A process’s output as NDJSON events: what is kept (the last MiB of a background process), then live with ?follow=true',
      response: withErrors({ 200: Type.Unsafe<Readable>({ type: 'string', description: 'application/x-ndjson: {"started"}, {"dropped"?}, {"stdout"}, {"stderr"}, {"exit"}' }) }),
    },
  }, async (request, reply) => {
    const { actor, bunker } = await target(request, request.params.bunker_id);
    const output = await bunkers.processes(actor, bunker, (workerId) => bunkers.gateway.processOutput(workerId, bunker.id, request.params.pid, request.query.follow ?? false));
    reply.raw.on('close', () => output.destroy());
    return reply.type('application/x-ndjson').send(output);
  });

  app.post('/bunkers/:bunker_id/processes/:pid/signal', {
    schema: { tags, summary: 'Send a signal to a process (its whole process group)', params: ProcessParams, body: SignalBody, response: withErrors({ 200: Ok(Type.Object({ pid: Type.Integer(), signal: Type.Integer() })) }) },
    config: { auditAction: 'bunker.process.signal' },
  }, async (request) => {
    const { actor, bunker } = await target(request, request.params.bunker_id);
    const { signal } = request.body;
    const number = typeof signal === 'number' ? signal : SIGNALS[signal];
    if (number === undefined) {
      throw new ScaiError('VALIDATION_ERROR', `Unknown signal ${String(signal)}.`, { details: [{ field: 'signal', message: `one of ${Object.keys(SIGNALS).join(', ')}, or 1–64` }] });
    }
    await bunkers.processes(actor, bunker, (workerId) => bunkers.gateway.signalProcess(workerId, bunker.id, request.params.pid, number));
    return ok({ pid: request.params.pid, signal: number });
  });

  app.post('/bunkers/:bunker_id/processes/:pid/stdin', {
    schema: { tags, summary: 'Write text to a process’s stdin (background, or started with stdin_open), and close it with eof', params: ProcessParams, body: StdinBody, response: withErrors({ 200: Ok(Type.Object({ pid: Type.Integer() })) }) },
    config: { auditAction: 'bunker.process.stdin' },
  }, async (request) => {
    const { actor, bunker } = await target(request, request.params.bunker_id);
    await bunkers.processes(actor, bunker, (workerId) => bunkers.gateway.writeStdin(workerId, bunker.id, request.params.pid, request.body.data ?? '', request.body.eof ?? false));
    return ok({ pid: request.params.pid });
  });

  await app.register(async (scope) => {
    // Raw bytes of any type, handed over as the stream they are (as file uploads are).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.withTypeProvider<TypeBoxTypeProvider>().put('/bunkers/:bunker_id/processes/:pid/stdin', {
      schema: {
        tags, summary: 'Stream the raw request body into a process’s stdin (flow-controlled: as fast as the process reads), then close it unless ?eof=false',
        params: ProcessParams, querystring: StdinStreamQuery, response: withErrors({ 200: Ok(Type.Object({ pid: Type.Integer(), bytes: Type.Integer() })) }),
      },
      config: { auditAction: 'bunker.process.stdin' },
    }, async (request) => {
      const { actor, bunker } = await target(request, request.params.bunker_id);
      const body = (request.body ?? request.raw) as IncomingMessage;
      const { bytes } = await bunkers.processes(actor, bunker, (workerId) => bunkers.gateway.streamStdin(workerId, bunker.id, request.params.pid, body, request.query.eof ?? true));
      return ok({ pid: request.params.pid, bytes });
    });
  });
};
