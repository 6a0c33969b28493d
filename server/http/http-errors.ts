// Errors as OpenAI's API reports them: an HTTP status and `{"error": {message, type, param, code}}`,
// the body every OpenAI client library knows how to show.

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status >= 500 ? 'server_error' : status === 401 ? 'authentication_error' : 'invalid_request_error',
  ) {
    super(message);
  }
}

export function errorBody(e: HttpError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}
