import { AppError, UpstreamError } from '../web/errors';

/**
 * What can go wrong talking to Canvas, one type per kind. None of them carries the request's headers or
 * the axios error: those hold the bearer token, and errors end up in logs.
 */

/** Why a person has to (re)connect microcred to Canvas. */
export type AuthorizationReason = 'not_connected' | 'not_configured' | 'revoked' | 'refresh_failed' | 'unauthorized';

/** No usable token: the UI turns this into "Connect microcred to Canvas" with the link. */
export class CanvasAuthorizationRequired extends AppError {
  constructor(
    readonly reason: AuthorizationReason,
    message = reason === 'not_configured'
      ? 'Canvas API access is not set up for your district yet.'
      : reason === 'not_connected'
        ? 'microcred needs your permission to read this from Canvas.'
        : 'Canvas no longer accepts microcred’s access to your account.',
  ) {
    super(401, message, {
      title: 'Connect microcred to Canvas',
      hint: reason === 'not_configured' ? 'Ask your district administrator to add the Canvas API key in microcred.' : 'Connect microcred to Canvas, then try again.',
      code: 'canvas_authorization_required',
    });
  }
}

/** Canvas answered 404. */
export class CanvasNotFound extends AppError {
  constructor(readonly method: string, readonly path: string) {
    super(404, 'Canvas could not find that item. It may have been deleted.', { title: 'Not found in Canvas', code: 'canvas_not_found' });
  }
}

/** A 403 that is a permission denial (not the throttle). */
export class CanvasForbidden extends AppError {
  constructor(readonly method: string, readonly path: string, readonly canvasMessage: string | undefined) {
    super(403, 'Canvas does not let this account do that.', { title: 'Not allowed in Canvas', hint: 'Someone with more rights in the course may need to do it.', code: 'canvas_forbidden' });
  }
}

/** Canvas refused the request as malformed or invalid (400, 409, 422…): usually our bug or stale data. */
export class CanvasRequestError extends AppError {
  constructor(readonly httpStatus: number, readonly method: string, readonly path: string, readonly canvasMessage: string | undefined) {
    super(502, `Canvas refused the request (${httpStatus}${canvasMessage ? `: ${canvasMessage}` : ''}).`, { title: 'Canvas refused the request', code: 'canvas_request' });
  }
}

/** Canvas answered, but not with what it documents (malformed JSON, a missing field, too many pages). */
export class CanvasResponseError extends UpstreamError {
  constructor(readonly method: string, readonly path: string, readonly detail: string) {
    super(`Canvas sent an answer microcred could not read (${detail}).`);
  }
}

/** Canvas did not answer in time, kept failing (5xx, network), or kept throttling after every retry. */
export class CanvasUnavailable extends UpstreamError {
  constructor(readonly method: string, readonly path: string, readonly detail: string) {
    super(`Canvas did not answer (${detail}).`);
  }
}

/** A file larger than the caller accepts. */
export class CanvasFileTooLarge extends AppError {
  constructor(readonly maxBytes: number) {
    super(413, `The file in Canvas is larger than ${Math.round(maxBytes / 1024)} KB.`, { title: 'File too large', code: 'canvas_file_too_large' });
  }
}
