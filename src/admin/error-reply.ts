// Turns anything thrown while handling an admin request into the one error shape clients see:
// `{"error": {"code", "message", "path"?}}` with the catalog's status. Schema failures become
// SLUICE_INVALID_BODY / SLUICE_INVALID_PARAM with a JSON pointer; it never decides what is valid.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaValidationError } from 'fastify';
import { SluiceError } from '../errors.js';
import { DURATION_PATTERN } from '../model/duration.js';
import { HEADER_NAME_PATTERN, HOST_PATTERN, NAME_PATTERN, PREFIX_PATTERN } from '../model/fields.js';
import { pointerToken } from '../model/json-pointer.js';
import { WHOLE_NUMBER_PATTERN } from '../api/common.js';

/** An ajv error; `propertyName` is set when an object key (not a value) failed. */
type SchemaIssue = FastifySchemaValidationError & { propertyName?: string };

const PATTERN_MEANINGS: Record<string, string> = {
  [NAME_PATTERN]: 'must be 1–32 lowercase letters, digits or "-", starting and ending with a letter or digit',
  [DURATION_PATTERN]: 'must be a duration such as "30s", "1.5s", "2m", "1m30s" or "500ms"',
  [HEADER_NAME_PATTERN]: 'must be a lowercase HTTP header name',
  [HOST_PATTERN]: 'must be "*", a host name, or a host name with one leading or trailing "*"',
  [PREFIX_PATTERN]: 'must start with "/" and contain no whitespace',
  [WHOLE_NUMBER_PATTERN]: 'must be a whole number',
};

function describe(issue: SchemaIssue, path: string): string {
  const params = issue.params as Record<string, unknown>;
  const field = path === '' ? 'The body' : `"${path}"`;
  switch (issue.keyword) {
    case 'required':
      return `Missing required field "${path}".`;
    case 'additionalProperties':
      return `Unknown field "${path}".`;
    case 'type':
      return `${field} must be a JSON ${String(params['type'])}.`;
    case 'pattern':
      return `${field} ${PATTERN_MEANINGS[String(params['pattern'])] ?? issue.message ?? 'is invalid'}.`;
    default:
      return `${field} ${issue.message ?? 'is invalid'}.`;
  }
}

/** The JSON pointer of the field to blame, down to the missing or unknown property. */
function pointerOf(issue: SchemaIssue): string {
  const params = issue.params as Record<string, unknown>;
  const child = params['missingProperty'] ?? params['additionalProperty'] ?? issue.propertyName;
  return typeof child === 'string' ? `${issue.instancePath}/${pointerToken(child)}` : issue.instancePath;
}

function fromValidation(issues: FastifySchemaValidationError[], context: string): SluiceError {
  const issue: SchemaIssue | undefined = issues[0];
  const code = context === 'body' ? 'SLUICE_INVALID_BODY' : 'SLUICE_INVALID_PARAM';
  if (issue === undefined) return new SluiceError(code);
  const path = pointerOf(issue);
  // A query parameter given twice arrives as an array.
  const repeated = context === 'querystring' && issue.keyword === 'type';
  const message = repeated
    ? `Give ${path.slice(1)} once.`
    : issue.propertyName === undefined
      ? describe(issue, path)
      : `Key "${issue.propertyName}" ${PATTERN_MEANINGS[NAME_PATTERN]}.`;
  return new SluiceError(code, message, path);
}

export function toSluiceError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) {
    return fromValidation(fastifyError.validation, fastifyError.validationContext ?? 'body');
  }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new SluiceError('SLUICE_BODY_TOO_LARGE');
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) return new SluiceError('SLUICE_BAD_REQUEST', fastifyError.message);
  return new SluiceError('SLUICE_INTERNAL');
}

/** Sends anything thrown as the error body; 5xx are logged with the original error. */
export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const sluiceError = toSluiceError(error);
  if (sluiceError.status >= 500) request.log.error({ err: error }, 'admin request failed');
  return reply.status(sluiceError.status).send({ error: sluiceError.toJSON() });
}

export function replyWithSluiceErrors(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    sendError(new SluiceError('SLUICE_NOT_FOUND', `No route for ${request.method} ${request.url}.`), request, reply);
  });
}
