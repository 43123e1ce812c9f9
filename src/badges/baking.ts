import { crc32 } from '../catalog/images';

/**
 * Baked badges: the credential travels inside the badge image, for backpacks that import images.
 * - PNG (OB 3.0 §5.3 "Baking"): an `iTXt` chunk, keyword `openbadgecredential`, uncompressed, holding the signed
 *   JSON; OB 2.0's `openbadges` keyword holds the hosted assertion URL for older backpacks. Chunks go before IEND.
 * - SVG: `<openbadges:credential>` (namespace https://purl.imsglobal.org/ob/v3p0) right after the root's start
 *   tag, the JSON in CDATA; a `]]>` inside the JSON is split across two CDATA sections so it survives.
 */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const OB3_PNG_KEYWORD = 'openbadgecredential';
export const OB2_PNG_KEYWORD = 'openbadges';
export const OB3_SVG_NAMESPACE = 'https://purl.imsglobal.org/ob/v3p0';

export class BakingError extends Error {}

interface PngChunk {
  type: string;
  data: Buffer;
  start: number;
  end: number;
}

function pngChunks(png: Buffer): PngChunk[] {
  if (png.length < 8 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new BakingError('not a PNG file');
  const out: PngChunk[] = [];
  let i = 8;
  while (i + 12 <= png.length) {
    const len = png.readUInt32BE(i);
    const type = png.toString('latin1', i + 4, i + 8);
    if (i + 12 + len > png.length) throw new BakingError('a PNG chunk runs past the end of the file');
    out.push({ type, data: png.subarray(i + 8, i + 8 + len), start: i, end: i + 12 + len });
    i += 12 + len;
    if (type === 'IEND') break;
  }
  if (out.at(-1)?.type !== 'IEND') throw new BakingError('the PNG has no IEND chunk');
  return out;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** iTXt: keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, UTF-8 text. */
function iTXt(keyword: string, text: string): Buffer {
  return chunk('iTXt', Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]));
}

function readITXt(data: Buffer): { keyword: string; text: string } | undefined {
  const nul = data.indexOf(0);
  if (nul < 1) return undefined;
  const keyword = data.toString('latin1', 0, nul);
  if (data[nul + 1] !== 0) return { keyword, text: '' }; // compressed: we never write those, and ignore them
  const langEnd = data.indexOf(0, nul + 3);
  const transEnd = langEnd < 0 ? -1 : data.indexOf(0, langEnd + 1);
  if (transEnd < 0) return undefined;
  return { keyword, text: data.toString('utf8', transEnd + 1) };
}

/** Bakes the signed OB 3.0 JSON (and the OB 2.0 assertion URL, if given) into a PNG, replacing earlier bakes. */
export function bakePng(png: Buffer, credentialJson: string, ob2AssertionUrl?: string): Buffer {
  const chunks = pngChunks(png);
  const keep = chunks.filter((c) => {
    if (c.type !== 'iTXt' && c.type !== 'tEXt') return true;
    const k = c.data.toString('latin1', 0, Math.max(0, c.data.indexOf(0)));
    return k !== OB3_PNG_KEYWORD && k !== OB2_PNG_KEYWORD;
  });
  const iend = keep.pop()!;
  const parts = [PNG_SIGNATURE, ...keep.map((c) => png.subarray(c.start, c.end)), iTXt(OB3_PNG_KEYWORD, credentialJson)];
  if (ob2AssertionUrl) parts.push(iTXt(OB2_PNG_KEYWORD, ob2AssertionUrl));
  parts.push(png.subarray(iend.start, iend.end));
  return Buffer.concat(parts);
}

/** What a baked PNG carries: the OB 3.0 credential text and/or the OB 2.0 assertion (URL or JSON). */
export function extractPng(png: Buffer): { credential?: string; ob2?: string } {
  const out: { credential?: string; ob2?: string } = {};
  for (const c of pngChunks(png)) {
    if (c.type !== 'iTXt') continue;
    const t = readITXt(c.data);
    if (t?.keyword === OB3_PNG_KEYWORD) out.credential = t.text;
    if (t?.keyword === OB2_PNG_KEYWORD) out.ob2 = t.text;
  }
  return out;
}

const SVG_START = /<svg\b(?:[^>"']|"[^"]*"|'[^']*')*>/;

function cdata(text: string): string {
  return `<![CDATA[${text.split(']]>').join(']]]]><![CDATA[>')}]]>`;
}

/** Bakes the signed OB 3.0 JSON into an SVG (the root gains the `openbadges` namespace; earlier bakes are removed). */
export function bakeSvg(svg: string, credentialJson: string): string {
  const clean = svg.replace(/<openbadges:credential\b[\s\S]*?<\/openbadges:credential>\s*/g, '');
  const m = SVG_START.exec(clean);
  if (!m) throw new BakingError('not an SVG file');
  let start = m[0];
  if (!/\sxmlns:openbadges\s*=/.test(start)) start = start.replace(/^<svg\b/, `<svg xmlns:openbadges="${OB3_SVG_NAMESPACE}"`);
  const element = `<openbadges:credential>${cdata(credentialJson)}</openbadges:credential>`;
  return clean.slice(0, m.index) + start + element + clean.slice(m.index + m[0].length);
}

/** The credential text baked into an SVG (its CDATA sections joined), or undefined. */
export function extractSvg(svg: string): string | undefined {
  const m = /<openbadges:credential\b[^>]*>([\s\S]*?)<\/openbadges:credential>/.exec(svg);
  if (!m) return undefined;
  const body = m[1]!;
  const sections = [...body.matchAll(/<!\[CDATA\[([\s\S]*?)\]\]>/g)].map((s) => s[1]);
  if (sections.length) return sections.join('');
  // Without CDATA the JSON is escaped character data.
  return body.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&').trim();
}
