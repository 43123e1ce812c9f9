import pino from 'pino';

/**
 * The one logger. Tokens, cookies, id_tokens and personal data never reach the log: the paths below
 * are censored, and request URLs are logged through `redactUrl`.
 */
const SECRET_KEYS = ['id_token', 'access_token', 'refresh_token', 'client_secret', 'client_assertion', 'password', 'token', 'secret', 'email', 'name', 'sortable_name', 'display_name'];

export const logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  base: { service: 'microcred' },
  redact: {
    paths: [
      'req.headers.authorization',
      'req.headers.cookie',
      'res.headers["set-cookie"]',
      // Secrets and personal data at the top level, one level down ({ user: { email } }) and in errors' request
      // configs (an HTTP client's error carries the request it sent: Authorization header, token form bodies).
      ...SECRET_KEYS,
      ...SECRET_KEYS.map((k) => `*.${k}`),
      '*.headers.authorization',
      '*.headers.Authorization',
      '*.headers.cookie',
      'err.config.headers.Authorization',
      'err.config.headers.authorization',
      'err.config.data',
      'err.response.config',
      'err.response.request',
      'err.request',
    ],
    censor: '[redacted]',
  },
});

export type Logger = pino.Logger;

const SECRET_QUERY = /([?&](?:id_token|ltik|code|state|access_token|token|lti_message_hint|login_hint|registration_token)=)[^&]*/gi;
const SESSION_PATH = /\/s\/[A-Za-z0-9_-]{20,}/g;

/** Removes secrets carried in URLs (session path segments, tokens in the query) before logging. */
export function redactUrl(url: string): string {
  return url.replace(SESSION_PATH, '/s/[session]').replace(SECRET_QUERY, '$1[redacted]');
}
