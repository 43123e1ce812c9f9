import zlib from 'node:zlib';
import type { Database } from '../../src/db/database';
import type { Badges, IssuedCredential } from '../../src/badges/service';
import { bakePng, bakeSvg, extractPng, extractSvg } from '../../src/badges/baking';
import { parseMultipart } from '../../src/badges/multipart';
import { crc32, readPng } from '../../src/catalog/images';
import { loadStarterCatalog } from '../../src/catalog/commands/starter';
import { blockNetwork } from './support';
import { badgesFor, openTestDb, passingResults, seedTenant, type Seed } from './fixtures';
import { dccVerify, routeDccFetch } from './dcc';

const starter = loadStarterCatalog();
const net = blockNetwork();
let db: Database;
let badges: Badges;
let seed: Seed;
let tl1: IssuedCredential;
let tl2: IssuedCredential;
let stack: IssuedCredential;

/** A real 2×2 PNG built chunk by chunk. */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])));
    return Buffer.concat([len, Buffer.from(type, 'latin1'), data, crc]);
  };
  const ihdr = Buffer.from([0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
  const raw = Buffer.from([0, 255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0, 0]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

beforeAll(async () => {
  db = await openTestDb();
  badges = badgesFor(db);
  seed = await seedTenant(db, { tl2Png: png() });
  routeDccFetch(net, 'badges.test', async (u) => {
    const did = /^\/issuers\/([0-9a-f-]{36})\/did\.json$/.exec(u.pathname);
    if (did) return Response.json(await badges.didDocument(did[1]!));
    const list = /^\/status\/([0-9a-f-]{36})\/(\d+)$/.exec(u.pathname);
    if (list) return Response.json(await badges.statusListCredential(list[1]!, Number(list[2])));
    return new Response('not found', { status: 404 });
  });
  const earner = { ...seed.earner, showName: false };
  tl1 = await badges.issueOpenBadge({ tenantId: seed.tenantId, earner, achievement: { versionId: seed.versions.tl1 }, results: passingResults(starter.credentials[0]!.definition.rubric) });
  tl2 = await badges.issueOpenBadge({ tenantId: seed.tenantId, earner, achievement: { versionId: seed.versions.tl2 }, results: passingResults(starter.credentials[1]!.definition.rubric) });
  stack = await badges.issueOpenBadge({ tenantId: seed.tenantId, earner, achievement: { stackId: seed.stackId } });
});
afterAll(async () => {
  await seed.remove();
  await db.close();
  net.restore();
});

describe('baked images', () => {
  it('PNG: an iTXt openbadgecredential chunk (and openbadges for OB 2.0) round-trips to the same JSON, which verifies', async () => {
    const json = JSON.stringify(tl1.credential);
    const baked = bakePng(png(), json, 'https://badges.test/ob2/assertions/x');
    expect(readPng(baked)).toEqual({ width: 2, height: 2 }); // still a valid PNG: every CRC checks
    expect(baked.includes(Buffer.from('iTXtopenbadgecredential\0\0\0\0\0'))).toBe(true);
    const out = extractPng(baked);
    expect(out.ob2).toBe('https://badges.test/ob2/assertions/x');
    expect(JSON.parse(out.credential!)).toEqual(tl1.credential);
    expect((await badges.verifyCredential(JSON.parse(out.credential!))).verified).toBe(true);
    expect((await dccVerify(JSON.parse(out.credential!))).log.valid_signature).toBe(true);
    // Re-baking replaces, not appends.
    const again = bakePng(baked, JSON.stringify(tl2.credential));
    expect(JSON.parse(extractPng(again).credential!)).toEqual(tl2.credential);
    expect(extractPng(again).ob2).toBeUndefined();
  });

  it('SVG: the JSON survives CDATA even when it contains "]]>" and markup', async () => {
    const tricky = { ...tl1.credential, description: 'ends with ]]> and <b>&amp;</b>' };
    const svg = '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" data-x="a>b"><rect width="10" height="10"/></svg>';
    const baked = bakeSvg(svg, JSON.stringify(tricky));
    expect(baked).toMatch(/^<\?xml version="1.0"\?>\n<svg xmlns:openbadges="https:\/\/purl.imsglobal.org\/ob\/v3p0" xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 10 10" data-x="a>b"><openbadges:credential><!\[CDATA\[/);
    expect(baked.match(/<openbadges:credential>[\s\S]*<\/openbadges:credential>/)![0]).not.toMatch(/\]\]>(?!<!\[CDATA\[|<\/openbadges)/);
    expect(JSON.parse(extractSvg(baked)!)).toEqual(tricky);
    expect(JSON.parse(extractSvg(bakeSvg(baked, JSON.stringify(tl1.credential)))!)).toEqual(tl1.credential);
  });

  it('a PNG badge design bakes as PNG through the service’s image', async () => {
    const art = await badges.versionImage(seed.versions.tl2);
    expect(art?.contentType).toBe('image/png');
    const out = extractPng(bakePng(art!.bytes, JSON.stringify(tl2.credential)));
    expect((await badges.verifyCredential(JSON.parse(out.credential!))).verified).toBe(true);
  });

  it('reads multipart form posts from browsers', () => {
    const body = Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="credential"\r\n\r\n{"a":1}\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="b.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XyZ--\r\n', 'latin1');
    const parts = parseMultipart(body, 'multipart/form-data; boundary=XyZ');
    expect(parts.map((p) => [p.name, p.filename, p.contentType, p.data.toString('latin1')])).toEqual([
      ['credential', undefined, undefined, '{"a":1}'],
      ['file', 'b.png', 'image/png', '\x89PNG'],
    ]);
  });
});

describe('CLR 2.0', () => {
  it('wraps the earner’s signed credentials with achievements and isPartOf associations; the CLR and each inner credential verify', async () => {
    const clr = await badges.issueClr({ tenantId: seed.tenantId, earnerUserId: seed.earner.userId });
    expect(clr['@context']).toEqual(['https://www.w3.org/ns/credentials/v2', 'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json', 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json']);
    expect(clr.type).toEqual(['VerifiableCredential', 'ClrCredential']);
    const s = clr.credentialSubject as { type: string[]; verifiableCredential: Record<string, unknown>[]; achievement: { id: string }[]; association: Record<string, unknown>[]; identifier: unknown[] };
    expect(s.type).toEqual(['ClrSubject']);
    expect(s.verifiableCredential).toEqual([tl1.credential, tl2.credential, stack.credential]);
    expect(s.achievement.map((a) => a.id)).toEqual([`https://badges.test/achievements/${seed.versions.tl1}`, `https://badges.test/achievements/${seed.versions.tl2}`, `https://badges.test/achievements/stacks/${seed.stackId}`]);
    expect(s.association).toEqual(
      expect.arrayContaining([
        { type: 'Association', associationType: 'isPartOf', sourceId: `https://badges.test/achievements/${seed.versions.tl1}`, targetId: `https://badges.test/achievements/stacks/${seed.stackId}` },
        { type: 'Association', associationType: 'isPartOf', sourceId: `https://badges.test/achievements/${seed.versions.tl2}`, targetId: `https://badges.test/achievements/stacks/${seed.stackId}` },
      ]),
    );
    expect(s.association).toHaveLength(2);

    const ours = await badges.verifyCredential(clr);
    expect(ours.verified).toBe(true);
    expect(ours.inner?.map((r) => r.verified)).toEqual([true, true, true]);
    expect((await dccVerify(clr)).log).toMatchObject({ valid_signature: true, expiration: true });
    for (const inner of s.verifiableCredential) expect((await dccVerify(inner)).log).toMatchObject({ valid_signature: true, revocation_status: true });

    // A CLR whose inner credential was tampered with fails as a whole (its own signature breaks first).
    const bad = structuredClone(clr) as typeof clr & { credentialSubject: { verifiableCredential: { name: string }[] } };
    bad.credentialSubject.verifiableCredential[0]!.name = 'Tech Leader III';
    expect((await badges.verifyCredential(bad)).checks.proof.ok).toBe(false);
    expect(net.attempts).toEqual([]);
  });
});
