import { ROUTE_TABLE } from '../../src/app';
import { describedApi } from '../../src/web/openapi';
import { startStack, type Stack } from '../support/stack';
import { forgetAndStop } from './support';

describe('the OpenAPI document', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => forgetAndStop(stack));

  it('is served publicly and describes every API route in the route table', async () => {
    const res = await fetch(`${stack.tool.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; servers: { url: string }[]; paths: Record<string, Record<string, { summary: string; 'x-policy-action': string; requestBody?: unknown; parameters: { name: string; in: string }[] }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0]!.url).toBe(`${stack.tool.url}/s/{session}`);
    const api = ROUTE_TABLE.filter((r) => r.kind === 'api');
    expect(api.length).toBeGreaterThanOrEqual(25);
    for (const r of api) {
      const path = r.path.replace(/:(\w+)/g, '{$1}');
      const op = doc.paths[path]?.[r.method];
      expect([r.method, r.path, op?.['x-policy-action']]).toEqual([r.method, r.path, r.action]);
      // Described on purpose, not by the fallback.
      expect([r.method, r.path, describedApi(r.method, r.path)?.summary]).toEqual([r.method, r.path, op!.summary]);
      if (r.method !== 'get') expect(op!.parameters.some((p) => p.name === 'X-CSRF-Token' && p.in === 'header')).toBe(true);
    }
  });

  it('carries request schemas generated from the validation schemas', async () => {
    const doc = (await (await fetch(`${stack.tool.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown>; required?: string[] } }> } }>> };
    const create = doc.paths['/api/catalog/credentials']!.post!.requestBody!.content['application/json']!.schema;
    expect(Object.keys(create.properties)).toEqual(expect.arrayContaining(['name', 'competency', 'rubric', 'passingRule', 'hours', 'alignments', 'evidencePrompts', 'achievementType', 'expiryMonths', 'image']));
    expect(create.required).toEqual(expect.arrayContaining(['name', 'rubric', 'hours']));
    expect(create.properties.hours).toMatchObject({ type: 'number', minimum: 0 });
  });
});
