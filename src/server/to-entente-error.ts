import { EntenteError, isEntenteError } from '../errors/entente-error.ts';

/**
 * Maps anything thrown during a request onto an EntenteError. Fastify's own errors (body limits,
 * unknown content types, malformed requests) keep their meaning under our codes; anything else is an
 * internal error whose details stay in the log, never in the response.
 */
export function toEntenteError(error: unknown): EntenteError {
  if (isEntenteError(error)) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const statusCode = typeof error === 'object' && error !== null && 'statusCode' in error ? Number(error.statusCode) : 500;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new EntenteError('ENT_INPUT_TOO_LARGE', 'The request body is larger than the configured limit (see max_content_length of the API root)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new EntenteError('ENT_HTTP_UNSUPPORTED_MEDIA_TYPE', 'This endpoint does not accept the request\'s Content-Type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new EntenteError('ENT_INPUT_MALFORMED_JSON', 'The request body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new EntenteError('ENT_INPUT_UNREADABLE', 'The Content-Length header does not match the body');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_INVALID_URL':
      return new EntenteError('ENT_HTTP_NOT_FOUND', 'The URL is not valid');
    default:
      break;
  }
  if (statusCode === 404) return new EntenteError('ENT_HTTP_NOT_FOUND', 'No such resource');
  if (statusCode === 405) return new EntenteError('ENT_HTTP_METHOD_NOT_ALLOWED', 'Method not allowed on this resource');
  if (statusCode === 413) return new EntenteError('ENT_INPUT_TOO_LARGE', 'The request body is larger than the configured limit');
  if (statusCode === 415) return new EntenteError('ENT_HTTP_UNSUPPORTED_MEDIA_TYPE', 'This endpoint does not accept the request\'s Content-Type');
  if (statusCode >= 400 && statusCode < 500) return new EntenteError('ENT_INPUT_UNREADABLE', 'The request could not be read');
  return new EntenteError('ENT_HTTP_INTERNAL', 'Internal error; quote the error_id to the node operator', undefined, { cause: error });
}
