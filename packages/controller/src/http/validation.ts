import AjvModule, { type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { ErrorDetail } from '@scaibunker/contracts';

// ajv and ajv-formats are CommonJS with a default export.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

function createAjv(coerceTypes: boolean | 'array') {
  // verbose: keeps each error's schema so a failed union of literals can name its choices.
  const ajv = new Ajv({ allErrors: true, removeAdditional: false, useDefaults: true, coerceTypes, strict: false, verbose: true });
  addFormats(ajv);
  return ajv;
}

/**
 * Bodies are validated without type coercion (`"5"` is not an integer and an unknown field is
 * an error); query strings and path params are strings on the wire, so they are coerced.
 */
export function installValidators(app: FastifyInstance, sharedSchemas: FastifySchema[]): void {
  const bodyAjv = createAjv(false);
  const paramAjv = createAjv('array');
  for (const schema of sharedSchemas) {
    bodyAjv.addSchema(schema);
    paramAjv.addSchema(schema);
  }
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : paramAjv).compile(schema));
}

const PART_PREFIX: Record<string, string> = { body: '', querystring: 'query.', params: 'path.', headers: 'header.' };

/** Turns ajv errors into one `{field, message}` per bad field, in the order they were found. */
export function validationDetails(errors: ErrorObject[], part: string | undefined): ErrorDetail[] {
  const prefix = PART_PREFIX[part ?? 'body'] ?? '';
  const byField = new Map<string, ErrorObject[]>();
  for (const error of errors) {
    const field = fieldOf(error);
    byField.set(field, [...(byField.get(field) ?? []), error]);
  }
  return [...byField].map(([field, fieldErrors]) => ({
    field: `${prefix}${field}` || (part === 'body' || part === undefined ? 'body' : part),
    message: messageOf(fieldErrors),
  }));
}

function fieldOf(error: ErrorObject): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') path.push(String(error.params.missingProperty));
  if (error.keyword === 'additionalProperties') path.push(String(error.params.additionalProperty));
  return path.reduce((acc, segment) => (/^\d+$/.test(segment) ? `${acc}[${segment}]` : acc ? `${acc}.${segment}` : segment), '');
}

function messageOf(errors: ErrorObject[]): string {
  const first = errors[0]!;
  if (first.keyword === 'required') return 'is required';
  if (first.keyword === 'additionalProperties') return 'is not a known field';
  const union = errors.find((e) => e.keyword === 'anyOf');
  if (union) {
    const choices = (union.schema as { const?: unknown }[]).map((s) => s.const);
    if (choices.every((c) => c !== undefined)) return `must be one of: ${choices.join(', ')}`;
    const specific = errors.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'const' && e.keyword !== 'type');
    return specific?.message ?? 'does not match any allowed shape';
  }
  return first.message ?? 'is invalid';
}
