import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { BunkerParams, Ok } from '@scaibunker/contracts';
import type { Repositories } from '@scaibunker/db';
import type { BunkerService } from '../../bunkers/bunker-service.js';
import { ok } from '../../http/envelope.js';
import { withErrors } from '../../http/route-schema.js';
import { bunkerTarget } from './bunker-target.js';

/** An absolute guest path: anything but NUL, at most PATH_MAX. */
const GuestPath = Type.String({ pattern: '^/[^\\u0000]*$', maxLength: 4096 });
const OctalMode = Type.String({ pattern: '^[0-7]{3,4}$', description: 'Octal permission bits, e.g. 0644.' });

const FileQuery = Type.Object({ path: GuestPath }, { additionalProperties: false });
const ReadQuery = Type.Object({ path: GuestPath, list: Type.Optional(Type.Boolean({ description: 'List a directory as JSON instead of reading a file.' })) }, { additionalProperties: false });
const WriteQuery = Type.Object({ path: GuestPath, mode: Type.Optional(OctalMode) }, { additionalProperties: false });
const RemoveQuery = Type.Object({ path: GuestPath, recursive: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const MkdirBody = Type.Object({ path: GuestPath, mode: Type.Optional(OctalMode) }, { additionalProperties: false });

const FileType = Type.Union([Type.Literal('file'), Type.Literal('dir'), Type.Literal('symlink'), Type.Literal('other')]);
const Entry = Type.Object({ name: Type.String(), type: FileType, size: Type.Integer(), mode: Type.String(), modified_at: Type.String({ format: 'date-time' }) });
const Listing = Type.Object({ path: Type.String(), entries: Type.Array(Entry), truncated: Type.Boolean() });
const Written = Type.Object({ path: Type.String(), size: Type.Integer() });

const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

/**
 * Files inside a bunker (spec §4): bytes stream end to end (HTTP ⇄ controller ⇄ link ⇄ worker
 * ⇄ guest agent) with flow control at every hop, so a 1 GiB file never sits in memory anywhere.
 */
export const filesRoutes: FastifyPluginAsyncTypebox<{ repos: Repositories; bunkers: BunkerService }> = async (app, { repos, bunkers }) => {
  const tags = ['files'];

  const target = (request: FastifyRequest, bunkerId: string) => bunkerTarget(request, repos, bunkers, bunkerId);

  await app.register(async (scope) => {
    // Uploads are raw bytes of any type (a JSON file included): in this scope alone the body
    // is handed over as the stream it is, unparsed and unbuffered.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    scope.withTypeProvider<TypeBoxTypeProvider>().put('/bunkers/:bunker_id/files', {
      schema: { tags, summary: 'Write a file from the raw request body (streamed); parents must exist', params: BunkerParams, querystring: WriteQuery, response: withErrors({ 200: Ok(Written) }) },
      config: { auditAction: 'bunker.file.write' },
    }, async (request) => {
      const { actor, bunker } = await target(request, request.params.bunker_id);
      const body = (request.body ?? request.raw) as IncomingMessage;
      const mode = request.query.mode === undefined ? undefined : Number.parseInt(request.query.mode, 8);
      const { size } = await bunkers.files(actor, bunker, (workerId) => bunkers.gateway.writeFile(workerId, bunker.id, request.query.path, body, { mode, asRoot: false }));
      return ok({ path: request.query.path, size });
    });
  });

  app.get('/bunkers/:bunker_id/files', {
    // A generated HEAD would run this handler and stream the whole file to nowhere.
    exposeHeadRoute: false,
    schema: {
      tags, summary: 'Read a file as raw bytes (streamed), or list a directory with ?list=true', params: BunkerParams, querystring: ReadQuery,
      // A stream is sent as it is (Fastify serialises only objects): the schema documents it as binary.
      response: withErrors({ 200: Type.Union([Ok(Listing), Type.Unsafe<Readable>({ type: 'string', format: 'binary', description: 'The file’s bytes (application/octet-stream).' })]) }),
    },
  }, async (request, reply) => {
    const { actor, bunker } = await target(request, request.params.bunker_id);
    const { path } = request.query;
    if (request.query.list) {
      const listing = await bunkers.files(actor, bunker, (workerId) => bunkers.gateway.list(workerId, bunker.id, path));
      return ok({
        path, truncated: listing.truncated,
        entries: listing.entries.map((e) => ({ name: e.name, type: e.type, size: e.size, mode: octal(e.mode), modified_at: new Date(e.mtimeMs).toISOString() })),
      });
    }
    const file = await bunkers.files(actor, bunker, (workerId) => bunkers.gateway.readFile(workerId, bunker.id, path));
    reply.raw.on('close', () => file.content.destroy());
    return reply.type('application/octet-stream').header('content-length', String(file.size)).header('x-file-mode', octal(file.mode)).send(file.content);
  });

  app.head('/bunkers/:bunker_id/files', {
    schema: { tags, summary: 'Stat a path: size, type, mode and mtime in headers', params: BunkerParams, querystring: FileQuery },
  }, async (request, reply) => {
    const { actor, bunker } = await target(request, request.params.bunker_id);
    const stat = await bunkers.files(actor, bunker, (workerId) => bunkers.gateway.stat(workerId, bunker.id, request.query.path));
    return reply.header('content-length', String(stat.type === 'file' ? stat.size : 0)).header('x-file-type', stat.type)
      .header('x-file-mode', octal(stat.mode)).header('last-modified', new Date(stat.mtimeMs).toUTCString()).send();
  });

  app.delete('/bunkers/:bunker_id/files', {
    schema: { tags, summary: 'Delete a file, or a directory (with ?recursive=true when not empty)', params: BunkerParams, querystring: RemoveQuery, response: withErrors({ 200: Ok(Type.Object({ path: Type.String() })) }) },
    config: { auditAction: 'bunker.file.delete' },
  }, async (request) => {
    const { actor, bunker } = await target(request, request.params.bunker_id);
    await bunkers.files(actor, bunker, (workerId) => bunkers.gateway.remove(workerId, bunker.id, request.query.path, request.query.recursive ?? false));
    return ok({ path: request.query.path });
  });

  app.post('/bunkers/:bunker_id/files/mkdir', {
    schema: { tags, summary: 'Create a directory and its missing parents', params: BunkerParams, body: MkdirBody, response: withErrors({ 200: Ok(Type.Object({ path: Type.String() })) }) },
    config: { auditAction: 'bunker.file.mkdir' },
  }, async (request) => {
    const { actor, bunker } = await target(request, request.params.bunker_id);
    const mode = request.body.mode === undefined ? undefined : Number.parseInt(request.body.mode, 8);
    await bunkers.files(actor, bunker, (workerId) => bunkers.gateway.mkdir(workerId, bunker.id, request.body.path, mode));
    return ok({ path: request.body.path });
  });
};
