import crypto from 'node:crypto';
import { InvalidInputError } from '../web/errors';

/**
 * Badge art: a PNG is checked chunk by chunk (signature, IHDR first, CRCs, IDAT, IEND), an SVG is parsed and
 * rebuilt from an allow-list, and a generated design is drawn from the credential's name.
 *
 * Why our own small XML reader rather than a package: the sanitizer's safety comes from what it *writes* (only
 * allow-listed elements and attributes, every value escaped), so the reader only has to be strict, not complete.
 * It refuses DTD internal subsets (entity expansion) and anything malformed; SVG needs nothing more. That keeps
 * a parser dependency (and its entity and prototype-pollution history) out of the upload path.
 */

export const MAX_IMAGE_BYTES = 1024 * 1024;

export interface CheckedImage {
  contentType: 'image/png' | 'image/svg+xml';
  bytes: Buffer;
  sha256: string;
  width: number | null;
  height: number | null;
  /** What the SVG sanitizer took out (elements and attributes), for the designer to see. */
  removed: string[];
}

export function checkImage(contentType: 'image/png' | 'image/svg+xml', bytes: Buffer): CheckedImage {
  if (bytes.length === 0) throw new InvalidInputError('The file is empty.', { image: 'The file is empty.' });
  if (bytes.length > MAX_IMAGE_BYTES) throw new InvalidInputError('The image is too large.', { image: `The image is ${(bytes.length / 1024 / 1024).toFixed(1)} MB; badge images can be at most 1 MB.` });
  if (contentType === 'image/png') {
    const { width, height } = readPng(bytes);
    return { contentType, bytes, sha256: sha256(bytes), width, height, removed: [] };
  }
  const svg = sanitizeSvg(bytes);
  const out = Buffer.from(svg.svg, 'utf8');
  return { contentType, bytes: out, sha256: sha256(out), width: svg.width, height: svg.height, removed: svg.removed };
}

export function sha256(b: Buffer): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}

// ---- PNG --------------------------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const notPng = () => new InvalidInputError('This file is not a PNG image.', { image: 'This file is not a PNG image. Upload a PNG or an SVG.' });

export function readPng(b: Buffer): { width: number; height: number } {
  if (b.length < 8 + 25 + 12 || !b.subarray(0, 8).equals(PNG_SIGNATURE)) throw notPng();
  let off = 8;
  let first = true;
  let sawData = false;
  let size: { width: number; height: number } | undefined;
  while (off + 12 <= b.length) {
    const len = b.readUInt32BE(off);
    const type = b.toString('latin1', off + 4, off + 8);
    const end = off + 12 + len;
    if (len > 0x7fffffff || end > b.length || !/^[A-Za-z]{4}$/.test(type)) throw notPng();
    if (crc32(b.subarray(off + 4, off + 8 + len)) !== b.readUInt32BE(off + 8 + len)) throw notPng();
    if (first) {
      if (type !== 'IHDR' || len !== 13) throw notPng();
      const width = b.readUInt32BE(off + 8);
      const height = b.readUInt32BE(off + 12);
      const depth = b[off + 16]!;
      const colour = b[off + 17]!;
      if (width === 0 || height === 0 || width > 20000 || height > 20000 || ![1, 2, 4, 8, 16].includes(depth) || ![0, 2, 3, 4, 6].includes(colour)) throw notPng();
      size = { width, height };
      first = false;
    }
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') {
      if (!sawData || !size) throw notPng();
      return size;
    }
    off = end;
  }
  throw notPng();
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of b) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- SVG --------------------------------------------------------------------------------------------------

interface XmlElement { name: string; attrs: [string, string][]; children: XmlNode[] }
type XmlNode = XmlElement | { text: string };

const notSvg = (why: string) => {
  const message = `This file is not a usable SVG image: ${why}.`;
  return new InvalidInputError(message, { image: message });
};

/** A strict reader for the XML subset SVG files use. Throws on anything it does not understand. */
export function parseXml(src: string): XmlElement {
  let i = 0;
  const root: XmlElement = { name: '#document', attrs: [], children: [] };
  const stack: XmlElement[] = [root];
  const top = () => stack[stack.length - 1]!;
  while (i < src.length) {
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i + 4);
      if (end < 0) throw notSvg('an unclosed comment');
      i = end + 3;
    } else if (src.startsWith('<![CDATA[', i)) {
      const end = src.indexOf(']]>', i + 9);
      if (end < 0) throw notSvg('an unclosed CDATA section');
      top().children.push({ text: src.slice(i + 9, end) });
      i = end + 3;
    } else if (src.startsWith('<!DOCTYPE', i) || src.startsWith('<!doctype', i)) {
      const end = src.indexOf('>', i);
      if (end < 0) throw notSvg('an unclosed DOCTYPE');
      // A DOCTYPE with an internal subset can define entities (billion laughs, external files): refuse it.
      if (src.slice(i, end).includes('[')) throw notSvg('it defines its own XML entities');
      i = end + 1;
    } else if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i + 2);
      if (end < 0) throw notSvg('an unclosed processing instruction');
      i = end + 2;
    } else if (src.startsWith('</', i)) {
      const m = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(src.slice(i, i + 300));
      if (!m || stack.length < 2 || top().name !== m[1]) throw notSvg('its tags do not match');
      stack.pop();
      i += m[0].length;
    } else if (src[i] === '<') {
      const m = /^<([A-Za-z_][\w.:-]*)/.exec(src.slice(i, i + 300));
      if (!m) throw notSvg('a malformed tag');
      i += m[0].length;
      const el: XmlElement = { name: m[1]!, attrs: [], children: [] };
      for (;;) {
        const ws = /^\s*/.exec(src.slice(i))![0];
        i += ws.length;
        if (src.startsWith('/>', i)) { i += 2; top().children.push(el); break; }
        if (src[i] === '>') { i += 1; top().children.push(el); stack.push(el); break; }
        const a = /^([A-Za-z_][\w.:-]*)\s*=\s*("([^"<]*)"|'([^'<]*)')/.exec(src.slice(i, i + 200_000));
        if (!a || ws.length === 0) throw notSvg('a malformed attribute');
        if (el.attrs.some(([n]) => n === a[1])) throw notSvg(`a repeated attribute ${a[1]}`);
        el.attrs.push([a[1]!, decodeEntities(a[3] ?? a[4] ?? '')]);
        i += a[0].length;
      }
      if (stack.length > 64) throw notSvg('it is nested too deeply');
    } else {
      const end = src.indexOf('<', i);
      const raw = src.slice(i, end < 0 ? src.length : end);
      if (stack.length === 1) {
        if (raw.trim()) throw notSvg('text outside the <svg> element');
      } else top().children.push({ text: decodeEntities(raw) });
      i = end < 0 ? src.length : end;
    }
  }
  if (stack.length !== 1) throw notSvg('an element is never closed');
  const elements = root.children.filter((c): c is XmlElement => 'name' in c);
  if (elements.length !== 1) throw notSvg('it must have exactly one root element');
  return elements[0]!;
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z]+);?/g, (whole, e: string) => {
    if (!whole.endsWith(';')) throw notSvg('a stray & (write &amp;)');
    if (e.startsWith('#x')) return codePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return codePoint(parseInt(e.slice(1), 10));
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    const v = named[e];
    if (v === undefined) throw notSvg(`an unknown entity &${e};`);
    return v;
  });
}

function codePoint(n: number): string {
  if (!(n > 0 && n <= 0x10ffff) || (n >= 0xd800 && n <= 0xdfff)) throw notSvg('an invalid character reference');
  return String.fromCodePoint(n);
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const XLINK_NS = 'http://www.w3.org/1999/xlink';

const ALLOWED_ELEMENTS = new Set([
  'svg', 'g', 'defs', 'title', 'desc', 'symbol', 'use', 'path', 'rect', 'circle', 'ellipse', 'line', 'polyline', 'polygon', 'text', 'tspan',
  'textPath', 'linearGradient', 'radialGradient', 'stop', 'clipPath', 'mask', 'pattern', 'marker', 'filter', 'feGaussianBlur', 'feOffset',
  'feBlend', 'feColorMatrix', 'feFlood', 'feComposite', 'feMerge', 'feMergeNode', 'feDropShadow',
]);

const ALLOWED_ATTRIBUTES = new Set([
  'id', 'class', 'x', 'y', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy', 'r', 'rx', 'ry', 'fx', 'fy', 'width', 'height', 'd', 'points', 'transform',
  'viewBox', 'preserveAspectRatio', 'version', 'fill', 'fill-opacity', 'fill-rule', 'stroke', 'stroke-width', 'stroke-linecap',
  'stroke-linejoin', 'stroke-miterlimit', 'stroke-dasharray', 'stroke-dashoffset', 'stroke-opacity', 'opacity', 'color', 'font-family',
  'font-size', 'font-weight', 'font-style', 'text-anchor', 'dominant-baseline', 'alignment-baseline', 'baseline-shift', 'letter-spacing',
  'word-spacing', 'dx', 'dy', 'textLength', 'lengthAdjust', 'offset', 'stop-color', 'stop-opacity', 'gradientUnits', 'gradientTransform',
  'spreadMethod', 'clip-path', 'clip-rule', 'clipPathUnits', 'mask', 'maskUnits', 'maskContentUnits', 'patternUnits', 'patternContentUnits',
  'patternTransform', 'visibility', 'display', 'overflow', 'filter', 'filterUnits', 'stdDeviation', 'in', 'in2', 'result', 'mode', 'type',
  'values', 'operator', 'k1', 'k2', 'k3', 'k4', 'flood-color', 'flood-opacity', 'markerWidth', 'markerHeight', 'refX', 'refY', 'orient',
  'markerUnits', 'marker-start', 'marker-mid', 'marker-end', 'vector-effect', 'paint-order', 'shape-rendering', 'text-rendering',
  'writing-mode', 'role', 'aria-label', 'aria-labelledby', 'aria-hidden', 'lang', 'xml:lang', 'xml:space', 'style', 'href', 'xlink:href',
  'xmlns', 'xmlns:xlink',
]);

/** A value may point inside the document (`url(#g)`, `#shape`) and nowhere else. */
function safeValue(name: string, value: string): boolean {
  if (name === 'xmlns') return value === SVG_NS;
  if (name === 'xmlns:xlink') return value === XLINK_NS;
  if (/(javascript|vbscript|data|file|https?)\s*:/i.test([...value].filter((ch) => ch.charCodeAt(0) > 0x20).join(''))) return false;
  if (/@import|expression\s*\(|behavior\s*:|-moz-binding/i.test(value)) return false;
  for (const m of value.matchAll(/url\s*\(\s*(['"]?)([^)'"]*)\1\s*\)/gi)) if (!m[2]!.startsWith('#')) return false;
  if ((name === 'href' || name === 'xlink:href') && !/^#[\w.:-]+$/.test(value)) return false;
  return true;
}

export function sanitizeSvg(bytes: Buffer): { svg: string; width: number | null; height: number | null; removed: string[] } {
  let src: string;
  try {
    src = new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw notSvg('it is not UTF-8 text');
  }
  const root = parseXml(src.trim());
  if (root.name !== 'svg' && root.name !== 'svg:svg') throw notSvg('its root element is not <svg>');
  const removed = new Set<string>();
  const write = (el: XmlElement): string => {
    const name = el.name.replace(/^svg:/, '');
    const attrs = el.attrs.filter(([n, v]) => {
      const ok = ALLOWED_ATTRIBUTES.has(n) && safeValue(n, v);
      if (!ok) removed.add(`attribute ${n}${/^on/i.test(n) ? ' (script)' : ''}`);
      return ok;
    });
    if (name === 'svg' && el === root && !attrs.some(([n]) => n === 'xmlns')) attrs.unshift(['xmlns', SVG_NS]);
    const inner = el.children
      .map((c) => {
        if ('text' in c) return escapeXml(c.text);
        const childName = c.name.replace(/^svg:/, '');
        if (!ALLOWED_ELEMENTS.has(childName)) {
          removed.add(`element <${c.name}>`);
          return '';
        }
        return write(c);
      })
      .join('');
    const open = `<${name}${attrs.map(([n, v]) => ` ${n}="${escapeXml(v)}"`).join('')}`;
    return inner ? `${open}>${inner}</${name}>` : `${open}/>`;
  };
  const svg = write(root);
  const attr = (n: string) => root.attrs.find(([k]) => k === n)?.[1];
  const viewBox = attr('viewBox')?.trim().split(/[\s,]+/).map(Number);
  const dim = (v: string | undefined, fromViewBox: number | undefined): number | null => {
    const n = v && /^\d+(\.\d+)?(px)?$/.test(v.trim()) ? Math.round(parseFloat(v)) : fromViewBox !== undefined && Number.isFinite(fromViewBox) ? Math.round(fromViewBox) : null;
    return n && n > 0 ? n : null;
  };
  return { svg, width: dim(attr('width'), viewBox?.[2]), height: dim(attr('height'), viewBox?.[3]), removed: [...removed].sort() };
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// ---- generated design -------------------------------------------------------------------------------------

/**
 * A badge drawn from the name: a hexagon (the shape wallets show well at 80px), the name on up to three lines and
 * an optional level line. Every piece of text is escaped; the colour was validated as #rrggbb.
 */
export function generatedBadgeSvg(o: { name: string; level?: string; color?: string }): string {
  const color = o.color && /^#[0-9a-fA-F]{6}$/.test(o.color) ? o.color : '#0374B5';
  const lines = wrap(o.name, 14).slice(0, 3);
  const size = lines.length === 1 ? 30 : lines.length === 2 ? 26 : 22;
  const startY = 128 - ((lines.length - 1) * size * 1.15) / 2 - (o.level ? 12 : 0);
  const text = lines.map((l, k) => `<text x="128" y="${(startY + k * size * 1.15).toFixed(1)}" font-size="${size}" font-weight="700" text-anchor="middle" dominant-baseline="middle" fill="#FFFFFF">${escapeXml(l)}</text>`).join('');
  const level = o.level ? `<text x="128" y="${(startY + lines.length * size * 1.15 + 8).toFixed(1)}" font-size="18" text-anchor="middle" dominant-baseline="middle" fill="#FFFFFF" opacity="0.9">${escapeXml(o.level)}</text>` : '';
  return (
    `<svg xmlns="${SVG_NS}" width="256" height="256" viewBox="0 0 256 256" role="img" aria-label="${escapeXml(o.name + (o.level ? ', ' + o.level : ''))}">` +
    `<title>${escapeXml(o.name)}</title>` +
    `<polygon points="128,8 232,68 232,188 128,248 24,188 24,68" fill="${color}"/>` +
    `<polygon points="128,22 220,75 220,181 128,234 36,181 36,75" fill="none" stroke="#FFFFFF" stroke-width="4" opacity="0.6"/>` +
    `<g font-family="Lato, 'Helvetica Neue', Arial, sans-serif">${text}${level}</g></svg>`
  );
}

function wrap(s: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of s.trim().split(/\s+/)) {
    if (line && (line + ' ' + word).length > width) {
      lines.push(line);
      line = word;
    } else line = line ? line + ' ' + word : word;
  }
  if (line) lines.push(line);
  return lines;
}
