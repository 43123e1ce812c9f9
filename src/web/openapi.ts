import { z } from 'zod';
import pkg from '../../package.json';
import type { SessionRoute } from './routeTable';

/**
 * The OpenAPI 3.1 document of microcred's JSON API, served at GET /openapi.json. Each feature describes its
 * routes next to where it defines them (`describeApi`), with the zod schemas it parses requests with, so the
 * document cannot drift from the validation. A test walks the route table: an `api` route without a
 * description fails it.
 */

export interface ApiDescription {
  method: SessionRoute['method'];
  /** As in the route table (Express style, `:id`), relative to the session prefix `/s/{session}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** The success status and what it carries. */
  response?: { status?: number; description: string; schema?: z.ZodType; contentType?: string };
}

const REGISTRY = new Map<string, ApiDescription>();
const keyOf = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

export function describeApi(list: ApiDescription[]): void {
  for (const d of list) REGISTRY.set(keyOf(d.method, d.path), d);
}

export function describedApi(method: string, path: string): ApiDescription | undefined {
  return REGISTRY.get(keyOf(method, path));
}

const ErrorSchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'invalid_input, forbidden, not_found, conflict, payload_too_large, upstream, session_expired…' }),
    message: z.string(),
    hint: z.string().optional(),
    fields: z.record(z.string(), z.string()).optional().meta({ description: 'For invalid_input: field path → a message a person understands.' }),
  }),
});

function jsonSchema(s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

function toOpenApiPath(path: string): { path: string; params: string[] } {
  const params: string[] = [];
  const converted = path.replace(/:([A-Za-z_]\w*)/g, (_m, name: string) => {
    params.push(name);
    return `{${name}}`;
  });
  return { path: converted, params };
}

function queryParameters(s: z.ZodType): Record<string, unknown>[] {
  const schema = jsonSchema(s, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({ name, in: 'query', required: schema.required?.includes(name) ?? false, schema: p, ...(p.description ? { description: p.description } : {}) }));
}

export function openApiDocument(o: { publicUrl: string; routes: SessionRoute[] }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const seen = new Set<string>();
  for (const r of o.routes) {
    if (r.kind !== 'api' || seen.has(keyOf(r.method, r.path))) continue;
    seen.add(keyOf(r.method, r.path));
    const d = describedApi(r.method, r.path);
    const { path, params } = toOpenApiPath(r.path);
    const parameters: Record<string, unknown>[] = params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
    if (d?.query) parameters.push(...queryParameters(d.query));
    if (r.method !== 'get') parameters.push({ name: 'X-CSRF-Token', in: 'header', required: true, description: 'The session’s CSRF token (the csrf-token meta tag of any page of the session).', schema: { type: 'string' } });
    const status = String(d?.response?.status ?? 200);
    const contentType = d?.response?.contentType ?? 'application/json';
    const op: Record<string, unknown> = {
      operationId: `${r.method}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: d?.summary ?? `${r.method.toUpperCase()} ${r.path}`,
      ...(d?.description ? { description: d.description } : {}),
      tags: [d?.tag ?? 'other'],
      'x-policy-action': r.action,
      parameters,
      responses: {
        [status]: { description: d?.response?.description ?? 'OK', content: { [contentType]: d?.response?.schema ? { schema: jsonSchema(d.response.schema, 'output') } : {} } },
        '400': { $ref: '#/components/responses/InvalidInput' },
        '401': { $ref: '#/components/responses/SessionEnded' },
        '403': { $ref: '#/components/responses/Forbidden' },
        '404': { $ref: '#/components/responses/NotFound' },
      },
    };
    if (d?.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(d.body, 'input') } } };
    (paths[path] ??= {})[r.method] = op;
  }
  const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
  return {
    openapi: '3.1.0',
    info: {
      title: 'microcred API',
      version: pkg.version,
      description:
        'The JSON API behind microcred’s pages. Every path lives under a session opened by an LTI launch from Canvas: `/s/{session}` (the session token, as in the page URLs). State changes need the session’s CSRF token in `X-CSRF-Token`. Errors are `{error:{code, message, fields}}`.',
    },
    servers: [{ url: `${o.publicUrl}/s/{session}`, variables: { session: { default: 'SESSION_TOKEN', description: 'The token in the URL of a launched page.' } } }],
    paths,
    components: {
      schemas: { Error: jsonSchema(ErrorSchema, 'output') },
      responses: {
        InvalidInput: errorResponse('Bad input: `fields` says what to fix, per field.'),
        SessionEnded: errorResponse('The session ended: launch microcred again from Canvas.'),
        Forbidden: errorResponse('Your role does not allow this (or the CSRF token is missing).'),
        NotFound: errorResponse('Not found, or not visible to you.'),
      },
    },
  };
}
