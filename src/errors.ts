/**
 * One error type for the whole application, with stable codes and one code→status table.
 * Routes never build error bodies themselves: they throw AppError and the app maps it to
 * `{"error":{code,message,field}}` on /api and to a FHIR OperationOutcome on /fhir.
 */

export type ErrorCode =
  | 'invalid_input'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'consent_required'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_input: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  consent_required: 403,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** FHIR OperationOutcome.issue.code for each error code (http://hl7.org/fhir/issue-type). */
const FHIR_ISSUE_BY_CODE: Record<ErrorCode, string> = {
  invalid_input: 'invalid',
  unsupported_media_type: 'not-supported',
  payload_too_large: 'too-long',
  unauthenticated: 'login',
  forbidden: 'forbidden',
  not_found: 'not-found',
  conflict: 'conflict',
  consent_required: 'forbidden',
  rate_limited: 'throttled',
  unavailable: 'transient',
  internal: 'exception',
};

export class AppError extends Error {
  readonly code: ErrorCode;
  /** The input element at fault: a JSON path on /api, a FHIRPath expression on /fhir. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.field = field;
  }

  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}

/** Shorthand constructors, so call sites read as sentences. */
export const invalid = (message: string, field?: string): AppError =>
  new AppError('invalid_input', message, field);
export const notFound = (message = 'Not found'): AppError => new AppError('not_found', message);
export const unauthenticated = (message = 'Authentication required'): AppError =>
  new AppError('unauthenticated', message);

export interface ApiErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}

export function toApiError(err: AppError): ApiErrorBody {
  return {
    error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) },
  };
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: Array<{
    severity: 'fatal' | 'error' | 'warning' | 'information';
    code: string;
    diagnostics: string;
    expression?: string[];
  }>;
}

/**
 * @example toOperationOutcome(invalid('subject is required', 'DocumentReference.subject'))
 */
export function toOperationOutcome(err: AppError, warnings: string[] = []): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: 'error',
        code: FHIR_ISSUE_BY_CODE[err.code],
        diagnostics: err.message,
        ...(err.field ? { expression: [err.field] } : {}),
      },
      ...warnings.map((w) => ({ severity: 'warning' as const, code: 'informational', diagnostics: w })),
    ],
  };
}
