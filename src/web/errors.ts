/**
 * One error type per kind. Routes throw these; `errorHandler` (web/errorHandler.ts) maps them to HTTP in one
 * place, as an HTML page or as JSON for API routes. Messages are written for the person who sees them.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly options: { title?: string; hint?: string; code?: string; fields?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
  }
  get code(): string {
    return this.options.code ?? this.name;
  }
}

export class InvalidInputError extends AppError {
  constructor(message: string, fields: Record<string, string> = {}, hint?: string) {
    super(400, message, { title: 'Please check what you entered', fields, hint, code: 'invalid_input' });
  }
  get fields(): Record<string, string> {
    return this.options.fields ?? {};
  }
}

export class UnauthorizedError extends AppError {
  constructor(message: string, opts: { title?: string; hint?: string; code?: string } = {}) {
    super(401, message, { title: opts.title ?? 'Please open microcred from Canvas', hint: opts.hint, code: opts.code ?? 'unauthorized' });
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Your role in this course does not allow this.', hint?: string) {
    super(403, message, { title: 'Not allowed', hint, code: 'forbidden' });
  }
}

export class NotFoundError extends AppError {
  constructor(what = 'page') {
    super(404, `We could not find that ${what}.`, { title: 'Not found', code: 'not_found' });
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super(409, message, { title: 'Already changed', code: 'conflict' });
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super(413, message, { title: 'Too large', code: 'payload_too_large' });
  }
}

/** Canvas failed us (5xx, timeout, malformed answer): not the user's fault, and usually worth a retry. */
export class UpstreamError extends AppError {
  constructor(message: string, cause?: unknown) {
    super(502, message, { title: 'Canvas did not answer', hint: 'Try again in a minute.', code: 'upstream', cause });
  }
}
