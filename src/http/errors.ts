import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, toApiError, toOperationOutcome } from '../errors.ts';
import { isUnstorableText } from '../platform/db/database.ts';

/** Maps anything thrown in a route to our error shapes: OperationOutcome under /fhir, {error} elsewhere. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError & { validationContext?: string };
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const first = fe.validation[0];
    const path = first?.instancePath?.replace(/^\//, '').replaceAll('/', '.') || undefined;
    const where = fe.validationContext ?? 'body';
    return new AppError(
      'invalid_input',
      `Invalid ${where}: ${first?.message ?? 'bad value'}${path ? ` at ${path}` : ''}`,
      path,
    );
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
      return new AppError('payload_too_large', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('unsupported_media_type', 'Unsupported Content-Type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('invalid_input', 'The request body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('invalid_input', `Malformed body: ${fe.message}`);
    default:
      break;
  }
  if (isUnstorableText(err)) {
    return new AppError('invalid_input', 'The request contains a character that cannot be stored (NUL)');
  }
  if (err instanceof SyntaxError || fe.statusCode === 400) {
    return new AppError('invalid_input', `Malformed request: ${fe.message}`);
  }
  if (fe.statusCode === 413) return new AppError('payload_too_large', 'The request body is too large');
  if (fe.statusCode === 415) return new AppError('unsupported_media_type', 'Unsupported Content-Type');
  return new AppError('internal', 'Internal error');
}

export function isFhirRequest(request: FastifyRequest): boolean {
  return request.url.startsWith('/fhir/');
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const appErr = toAppError(err);
  if (appErr.code === 'internal') {
    request.log.error({ err }, 'unhandled error');
  } else {
    request.log.info({ code: appErr.code, reason: appErr.message }, 'request refused');
  }
  // A throttled attempt says when to come back (identity's ThrottledError carries it), whatever the plugin.
  const retryAfter = (appErr as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (appErr.code === 'rate_limited' && typeof retryAfter === 'number') {
    reply.header('Retry-After', String(retryAfter));
  }
  if (appErr.code === 'unauthenticated' && isFhirRequest(request)) {
    reply.header('WWW-Authenticate', 'Bearer realm="carnet", error="invalid_token"');
  }
  if (isFhirRequest(request)) {
    void reply.status(appErr.status).type('application/fhir+json').send(toOperationOutcome(appErr));
  } else {
    void reply.status(appErr.status).type('application/json').send(toApiError(appErr));
  }
}
