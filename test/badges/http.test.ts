import { eq } from 'drizzle-orm';
import { decodeList } from '@digitalbazaar/vc-bitstring-status-list';
import { startServer, type RunningServer } from '../../src/server';
import { testConfig, freePort } from '../support/stack';
import { issuerProfiles } from '../../src/catalog/schema';
import { verifyProof } from '../../src/badges/verify';
import { extractSvg } from '../../src/badges/baking';
import { identityHash } from '../../src/badges/credential';
import { loadStarterCatalog } from '../../src/catalog/commands/starter';
import type { IssuedCredential } from '../../src/badges/service';
import { blockNetwork } from './support';
import { passingResults, seedTenant, type Seed } from './fixtures';
import { dccVerify, routeDccFetch } from './dcc';

/** The public routes over real HTTP, on the real app, with the DCC verifier resolving did:web and status lists from it. */
const net = blockNetwork();
const get = (url: string, init?: RequestInit) => net.realFetch(url, init);
let tool: RunningServer;
let seed: Seed;
let host: string;
let badge: IssuedCredential;
let named: IssuedCredential;

beforeAll(async () => {
  tool = await startServer(testConfig(await freePort()));
  host = new URL(tool.url).host;
  seed = await seedTenant(tool.db);
  await tool.db.orm.update(issuerProfiles).set({ name: 'Riverside <Schools> & Co' }).where(eq(issuerProfiles.tenantId, seed.tenantId));
  // DCC resolves did:web:<host>… as https://<host>/…; our loopback app speaks plain HTTP.
  routeDccFetch(net, host, (u) => get(`http://${host}${u.pathname}`));
  const rubric = loadStarterCatalog().credentials[0]!.definition.rubric;
  const issue = (showName: boolean) =>
    tool.app.badges.issueOpenBadge({ tenantId: seed.tenantId, earner: { ...seed.earner, showName }, achievement: { versionId: seed.versions.tl1 }, results: passingResults(rubric), evidence: [{ sha256: 'b'.repeat(64), name: 'Unit plan', narrative: 'Two reviewers scored it.' }] });
  badge = await issue(false);
  named = await issue(true);
});
afterAll(async () => {
  await seed.remove();
  await tool.stop();
  net.restore();
});

/** A resolver that reads our documents over HTTP, as a remote verifier would. */
const overHttp = async (url: string) => {
  const base = url.split('#')[0]!;
  const didPrefix = `did:web:${encodeURIComponent(host)}:issuers:`;
  if (base.startsWith(didPrefix)) return (await get(`${tool.url}/issuers/${base.slice(didPrefix.length)}/did.json`)).json();
  if (base.startsWith(tool.url)) return (await get(base)).json();
  return undefined;
};

describe('issuer, DID document and status list over HTTP', () => {
  it('serves the DID document in the form 1EdTech’s validator requires', async () => {
    const res = await get(`${tool.url}/issuers/${seed.tenantId}/did.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { id: string; verificationMethod: { id: string; type: string; controller: string; publicKeyMultibase: string }[]; assertionMethod: string[] };
    const did = `did:web:${encodeURIComponent(host)}:issuers:${seed.tenantId}`;
    expect(doc.id).toBe(did);
    expect(doc.assertionMethod).toEqual([`${did}#key-1`]);
    expect(doc.verificationMethod).toEqual([{ id: `${did}#key-1`, type: 'Multikey', controller: did, publicKeyMultibase: expect.stringMatching(/^z6Mk/) }]);
    const profile = (await (await get(`${tool.url}/issuers/${seed.tenantId}`)).json()) as Record<string, unknown>;
    expect(profile).toMatchObject({ id: did, type: ['Profile'], name: 'Riverside <Schools> & Co', url: 'https://riverside.test', email: 'badges@riverside.test' });
    expect((await get(`${tool.url}/issuers/00000000-0000-4000-8000-000000000000/did.json`)).status).toBe(404);
  });

  it('serves a signed BitstringStatusListCredential that parses and verifies', async () => {
    const res = await get(badge.statusListCredential);
    expect(res.status).toBe(200);
    const list = (await res.json()) as Record<string, unknown> & { credentialSubject: { type: string; statusPurpose: string; encodedList: string } };
    expect(list.type).toEqual(['VerifiableCredential', 'BitstringStatusListCredential']);
    expect(list.credentialSubject).toMatchObject({ type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: expect.stringMatching(/^u/) });
    expect(await verifyProof(list, overHttp)).toMatchObject({ ok: true, controller: list.issuer });
    // Decoded by the W3C reference implementation's decoder: 131,072 entries, ours unset.
    const bits = await decodeList({ encodedList: list.credentialSubject.encodedList });
    expect(bits.length).toBe(131072);
    expect(bits.getStatus(badge.statusListIndex)).toBe(false);
  });

  it('lets the DCC verifier resolve everything from the app (and nothing else)', async () => {
    expect((await dccVerify(badge.credential)).log).toMatchObject({ valid_signature: true, revocation_status: true, expiration: true });
    expect(net.attempts).toEqual([]);
  });
});

describe('credential pages', () => {
  it('shows the credential to anyone, escaped, without the earner’s name unless they opted in', async () => {
    const res = await get(badge.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('Tech Leader I');
    expect(html).toContain('This credential is valid');
    expect(html).toContain('Riverside &lt;Schools&gt; &amp; Co');
    expect(html).not.toContain('<Schools>');
    expect(html).toContain('b'.repeat(64));
    expect(html).toContain('Meets');
    expect(html).not.toContain('Dana');
    expect(html).not.toMatch(/<script>|style=/);
    expect(await (await get(named.url)).text()).toContain('to Dana Earner');
  });

  it('serves the JSON, by .json and by content negotiation', async () => {
    expect(await (await get(`${badge.url}.json`)).json()).toEqual(badge.credential);
    expect(await (await get(badge.url, { headers: { accept: 'application/ld+json' } })).json()).toEqual(badge.credential);
    expect((await get(`${tool.url}/credentials/not-a-credential`)).status).toBe(404);
  });

  it('bakes the SVG badge: the extracted credential is the same JSON and verifies', async () => {
    const res = await get(`${badge.url}/badge.svg`);
    expect(res.status).toBe(200);
    const svg = await res.text();
    expect(svg).toContain('xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"');
    const json = JSON.parse(extractSvg(svg)!) as Record<string, unknown>;
    expect(json).toEqual(badge.credential);
    expect((await tool.app.badges.verifyCredential(json)).verified).toBe(true);
    // The generated art is an SVG, so there is no PNG bake for it.
    expect((await get(`${badge.url}/badge.png`)).status).toBe(404);
  });

  it('serves OB 2.0 hosted Issuer, BadgeClass and Assertion with the hashed email recipient', async () => {
    const a = (await (await get(`${tool.url}/ob2/assertions/${badge.id}`)).json()) as Record<string, unknown> & { recipient: { identity: string; salt: string; type: string; hashed: boolean }; badge: string };
    expect(a).toMatchObject({ '@context': 'https://w3id.org/openbadges/v2', type: 'Assertion', id: `${tool.url}/ob2/assertions/${badge.id}`, verification: { type: 'hosted' }, issuedOn: badge.credential.validFrom });
    expect(a.recipient).toMatchObject({ type: 'email', hashed: true });
    expect(a.recipient.identity).toBe(identityHash('dana.earner@school.test', a.recipient.salt));
    const bc = (await (await get(a.badge)).json()) as Record<string, unknown> & { issuer: string };
    expect(bc).toMatchObject({ type: 'BadgeClass', name: 'Tech Leader I', image: `${tool.url}/achievements/${seed.versions.tl1}/image` });
    const issuer = (await (await get(bc.issuer)).json()) as Record<string, unknown>;
    expect(issuer).toMatchObject({ type: 'Issuer', name: 'Riverside <Schools> & Co', url: 'https://riverside.test', email: 'badges@riverside.test' });
    const img = await get(`${tool.url}/achievements/${seed.versions.tl1}/image`);
    expect(img.headers.get('content-type')).toMatch(/image\/svg\+xml/);
  });
});

describe('the verifier page', () => {
  const post = (body: BodyInit, headers: Record<string, string> = {}) => get(`${tool.url}/verify`, { method: 'POST', body, headers });

  it('shows the form, and verifies pasted JSON (form post) in plain words', async () => {
    const page = await (await get(`${tool.url}/verify`)).text();
    expect(page).toContain('enctype="multipart/form-data"');
    const res = await post(new URLSearchParams({ credential: JSON.stringify(badge.credential) }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Verified');
    expect(html).toContain('has not been changed since it was signed');
  });

  it('verifies an uploaded baked SVG, answers JSON to API clients, and refuses garbage and files over 1 MB', async () => {
    const svg = await (await get(`${badge.url}/badge.svg`)).text();
    const form = new FormData();
    form.append('credential', '');
    form.append('file', new Blob([svg], { type: 'image/svg+xml' }), 'badge.svg');
    const html = await (await post(form)).text();
    expect(html).toContain('Verified');

    const api = await post(JSON.stringify(badge.credential), { 'content-type': 'application/json', accept: 'application/json' });
    expect(await api.json()).toMatchObject({ verified: true, checks: { proof: { ok: true }, status: { ok: true }, expiry: { ok: true }, issuer: { ok: true } } });

    const tampered = structuredClone(badge.credential) as { name: string };
    tampered.name = 'Tech Leader III';
    const t = (await (await post(JSON.stringify(tampered), { 'content-type': 'application/json', accept: 'application/json' })).json()) as { verified: boolean; checks: { proof: { ok: boolean } } };
    expect(t).toMatchObject({ verified: false, checks: { proof: { ok: false } } });

    const bad = await post(new URLSearchParams({ credential: '<script>alert(1)</script>' }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('This is not JSON');
    expect(badHtml).not.toContain('<script>alert(1)');

    const big = new FormData();
    big.append('file', new Blob([Buffer.alloc(1024 * 1024 + 10, 0x20)], { type: 'application/json' }), 'big.json');
    expect((await post(big)).status).toBe(413);
  });

  it('after revocation: the page, the verifier, OB 2.0 (410 Gone) and the DCC verifier all say revoked', async () => {
    await tool.app.badges.revoke(badge.id, 'Awarded in error');
    const html = await (await get(badge.url)).text();
    expect(html).toContain('This credential has been revoked');
    expect(html).toContain('Awarded in error');
    const api = (await (await post(JSON.stringify(badge.credential), { 'content-type': 'application/json', accept: 'application/json' })).json()) as { verified: boolean; checks: { status: { ok: boolean } } };
    expect(api).toMatchObject({ verified: false, checks: { status: { ok: false } } });
    const gone = await get(`${tool.url}/ob2/assertions/${badge.id}`);
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ revoked: true, revocationReason: 'Awarded in error' });
    const list = (await (await get(badge.statusListCredential)).json()) as { credentialSubject: { encodedList: string } };
    expect((await decodeList({ encodedList: list.credentialSubject.encodedList })).getStatus(badge.statusListIndex)).toBe(true);
    expect((await dccVerify(badge.credential)).log).toMatchObject({ valid_signature: true, revocation_status: false });
    expect(net.attempts).toEqual([]);
  });
});
