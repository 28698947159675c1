import type { FastifyReply, FastifyRequest } from 'fastify';
import { EntenteError } from '../errors/entente-error.ts';

/** Reading the JSON bodies of the node's own REST API, and answering in JSON. */

export function badField(key: string, message: string): EntenteError {
  return new EntenteError('ENT_HTTP_BAD_FIELD', message, { field: key });
}

/**
 * The JSON object body with only the fields the route defines: a misspelt or invented field is
 * refused, never silently ignored (`{"organisation_id": …, "admin": true}` is a mistake or a probe).
 */
export function bodyOf(request: FastifyRequest, fields: readonly string[]): Record<string, unknown> {
  return fieldsOf(request.body, fields);
}

/** bodyOf for a body parsed elsewhere (POST /api/drafts parses its body on the draft worker thread). */
export function fieldsOf(body: unknown, fields: readonly string[]): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new EntenteError('ENT_INPUT_NOT_ENVELOPE', 'The body must be a JSON object');
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).find((key) => !fields.includes(key));
  if (unknown !== undefined) {
    const name = unknown.slice(0, 64);
    throw badField(name, `unknown field "${name}"; this route takes ${fields.length === 0 ? 'no fields' : fields.map((field) => `"${field}"`).join(', ')}`);
  }
  return record;
}

/** A string field, if present; refused when it is another JSON type or longer than `maxChars`. */
export function optionalString(body: Record<string, unknown>, key: string, maxChars = Number.POSITIVE_INFINITY): string | undefined {
  const value = Object.hasOwn(body, key) ? body[key] : undefined;
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badField(key, `"${key}" must be a string`);
  if (value.length > maxChars) throw badField(key, `"${key}" is longer than ${maxChars} characters`);
  return value;
}

export function sendJson(reply: FastifyReply, status: number, value: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(value));
}
