import path from 'node:path';
import { ROUTE_TABLE } from '../../src/app';
import { RULES } from '../../src/policies';
import { createSandbox, loadScenario } from '../../src/sandbox';
import { connectToolToSandbox } from '../../src/sandbox/connectTool';
import { startStack, freePort, type Stack } from '../support/stack';
import { Browser } from '../support/browser';
import { sessionOf } from '../support/session';
import { concreteRoute } from '../support/routes';

/**
 * Every session route × every role × two tenants, generated from the route table (so a new route cannot be
 * missed) and judged by the policy table: a role the policy refuses gets 403 (or 404 where existence is itself
 * hidden), a role it allows is never refused, nobody without a session gets anything, and no request from the
 * second district ever sees the first district's data.
 */
const MARKER = 'MATRIX-SECRET-A-7f3c';

type Role = 'earner' | 'designer' | 'reviewer' | 'admin' | 'recognizer';
/** Canvas users of the scenario; 108 is an educator the district granted the recognizer role (reads reports). */
const USERS: Record<Role, string> = { earner: '101', designer: '2', reviewer: '4', admin: '1', recognizer: '108' };

describe('authorization matrix over the route table', () => {
  let stack: Stack;
  const sessions = new Map<string, ReturnType<typeof sessionOf>>();
  const ids: Record<string, string> = {};
  let closeB: () => Promise<void>;

  beforeAll(async () => {
    stack = await startStack();
    // District B: a second Canvas registered with the same microcred.
    const port = await freePort();
    const b = createSandbox({ baseUrl: `http://localhost:${port}`, scenario: loadScenario(path.resolve('config/scenarios/tech-leader-1.json')) });
    closeB = (await b.listen(port, '127.0.0.1')).close;
    const installedB = await connectToolToSandbox(stack.tool.app, stack.config, b, 'District B');
    // The recognizer grant: made after a first launch (microcred must know the person), effective from the next.
    const tenants = stack.tool.app.repos.tenants;
    const grantRecognizer = async (launch: () => Promise<unknown>, issuer: string, clientId: string, deploymentId: string) => {
      await launch();
      const t = (await tenants.findByLtiKey(issuer, clientId, deploymentId))!;
      const [u] = (await stack.tool.db.sql.query<{ id: string }>('SELECT id FROM users WHERE tenant_id = $1 AND canvas_user_id = $2', [t.id, USERS.recognizer])).rows;
      await tenants.grant(t.id, u!.id, 'recognizer', null, null);
    };
    const launchB = (user: string) => {
      const init = b.loginInitiation({ userId: user, courseId: '101', toolId: installedB.toolId });
      const u = new URL(init.url);
      for (const [k, v] of Object.entries(init.params)) u.searchParams.set(k, v);
      return new Browser({ topLevelHost: new URL(b.baseUrl).host }).get(u.toString());
    };
    await grantRecognizer(() => stack.launch(USERS.recognizer), stack.sandbox.issuer, stack.clientId, stack.deploymentId);
    await grantRecognizer(() => launchB(USERS.recognizer), b.issuer, installedB.clientId, installedB.deploymentId);
    for (const [role, user] of Object.entries(USERS)) {
      sessions.set(`A:${role}`, sessionOf((await stack.launch(user)).page));
      sessions.set(`B:${role}`, sessionOf(await launchB(user)));
    }
    // District A's data, with a marker that must never reach district B.
    const designer = sessions.get('A:designer')!;
    const created = await designer.api('/api/catalog/credentials', { method: 'POST', json: credential(`${MARKER} credential`) });
    expect(created.status).toBe(201);
    ids.credential = ((await created.json()) as { id: string }).id;
    const stackRes = await designer.api('/api/catalog/stacks', { method: 'POST', json: { name: `${MARKER} stack`, description: MARKER, kind: 'ordered', members: [{ credentialId: ids.credential }] } });
    ids.stack = stackRes.status === 201 ? ((await stackRes.json()) as { id: string }).id : '00000000-0000-4000-8000-000000000000';
  }, 120_000);
  afterAll(async () => {
    await closeB?.();
    await stack.stop();
  });

  // The credential and stack district A made; no review item here, so item routes get an id that exists nowhere.
  const concretePath = (p: string) => concreteRoute(p, { credential: ids.credential, stack: ids.stack });

  it('covers every session route', () => {
    expect(ROUTE_TABLE.length).toBeGreaterThan(40);
    for (const r of ROUTE_TABLE) expect(Object.keys(RULES)).toContain(r.action);
  });

  it('refuses what the policy refuses, allows what it allows, and never leaks across districts', async () => {
    const failures: string[] = [];
    let ownDataSeen = 0;
    for (const route of ROUTE_TABLE) {
      const p = concretePath(route.path);
      for (const [key, session] of sessions) {
        const [district, role] = key.split(':') as ['A' | 'B', Role];
        const res = await session.api(p, { method: route.method.toUpperCase(), json: route.method === 'get' ? undefined : {} });
        const body = await res.text();
        const allowed = policyAllows(route.action, role);
        const where = `${route.method.toUpperCase()} ${route.path} as ${key}`;
        if (res.status >= 500) failures.push(`${where}: ${res.status}`);
        if (!allowed && ![403, 404].includes(res.status)) failures.push(`${where}: expected 403/404, got ${res.status}`);
        if (allowed && res.status === 403 && !/expired|did not come from microcred/.test(body) && district === 'A' && !route.path.includes(':')) failures.push(`${where}: allowed by policy but refused`);
        if (district === 'B' && body.includes(MARKER)) failures.push(`${where}: district B saw district A's data`);
        if (district === 'A' && body.includes(MARKER)) ownDataSeen++;
      }
    }
    expect(failures).toEqual([]);
    // The leak check can fail: district A's own people do see the marked data through these routes.
    expect(ownDataSeen).toBeGreaterThan(5);
  }, 300_000);

  it('refuses every state change without the session’s CSRF token', async () => {
    const admin = sessions.get('A:admin')!;
    const failures: string[] = [];
    const changing = ROUTE_TABLE.filter((r) => r.method !== 'get');
    expect(changing.length).toBeGreaterThan(20);
    for (const route of changing) {
      for (const token of [undefined, 'forged-token']) {
        const headers: Record<string, string> = { Accept: 'application/json', 'Content-Type': 'application/json' };
        if (token) headers['X-CSRF-Token'] = token;
        const res = await fetch(admin.base + concretePath(route.path), { method: route.method.toUpperCase(), headers, body: '{}' });
        const body = await res.text();
        if (res.status !== 403 || !/did not come from microcred|CSRF|form/i.test(body)) failures.push(`${route.method.toUpperCase()} ${route.path} (${token ?? 'no token'}): ${res.status} ${body.slice(0, 80)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('gives nothing without a session', async () => {
    const failures: string[] = [];
    for (const route of ROUTE_TABLE) {
      const url = `${stack.tool.url}/s/${'x'.repeat(43)}${concretePath(route.path)}`;
      const res = await fetch(url, { method: route.method.toUpperCase(), headers: { Accept: 'application/json' } });
      if (res.status !== 401) failures.push(`${route.method.toUpperCase()} ${route.path}: ${res.status}`);
    }
    expect(failures).toEqual([]);
  });
});

/** What the route-level policy says for a role in its own course (per-item rules are checked by the handlers). */
function policyAllows(action: keyof typeof RULES, role: Role): boolean {
  const roles = { earner: ['earner'], designer: ['designer'], reviewer: ['reviewer'], admin: ['admin'], recognizer: ['recognizer', 'earner'] }[role];
  const ctx = { roles, course: { id: 'c' }, tenant: { id: 't' }, user: { id: 'u' } } as never;
  try {
    return (RULES[action] as (c: never, r?: unknown) => boolean)(ctx);
  } catch {
    return true; // item-level rules need the item; the handler decides, and the leak check still applies
  }
}

function credential(name: string) {
  return {
    name,
    competency: `${MARKER} competency`,
    description: MARKER,
    keyMethod: 'Plan and teach a lesson',
    criteriaNarrative: MARKER,
    evidencePrompts: [{ prompt: 'Upload your lesson plan', kinds: ['file'] }],
    rubric: {
      criteria: [
        {
          id: 'c1',
          title: 'Plan',
          description: 'A plan',
          requiredLevelId: 'meets',
          levels: [
            { id: 'meets', name: 'Meets', points: 2, descriptor: 'Meets' },
            { id: 'not-yet', name: 'Not yet', points: 0, descriptor: 'Not yet' },
          ],
        },
      ],
    },
    passingRule: { kind: 'every_criterion' },
    hours: 5,
    alignments: [],
    tags: [],
    achievementType: 'MicroCredential',
    expiryMonths: null,
  };
}
