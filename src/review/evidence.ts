/**
 * Evidence is the earner's, so nothing of it is trusted: text (often Canvas rich-text HTML) becomes plain text
 * that the views escape; files are served only as types a browser shows without running anything, from our own
 * route, with nosniff and a CSP sandbox; everything else downloads.
 */

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Canvas's HTML → readable plain text: blocks become line breaks, tags and scripts vanish, entities decode. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|template|iframe|object|noscript)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<\s*br\s*\/?>/gi, '\n')
    .replace(/<\s*li\b[^>]*>/gi, '\n• ')
    .replace(/<\s*\/\s*(p|div|h[1-6]|ul|ol|blockquote|pre|table|section|article)\s*>/gi, '\n\n')
    .replace(/<\s*\/\s*tr\s*>/gi, '\n')
    .replace(/<\/?[a-zA-Z!?][^>]*>?/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Paragraphs for the view (each escaped by EJS). */
export function paragraphs(text: string): string[] {
  return text.split(/\n{2,}/).map((p) => p.trim()).filter(Boolean);
}

export type ViewerKind = 'image' | 'pdf' | 'video' | 'audio' | 'text' | 'download';

/** Types a browser renders itself without running content we do not control. */
const INLINE: Record<string, ViewerKind> = {
  'image/png': 'image',
  'image/jpeg': 'image',
  'image/gif': 'image',
  'image/webp': 'image',
  'application/pdf': 'pdf',
  'video/mp4': 'video',
  'video/webm': 'video',
  'video/ogg': 'video',
  'audio/mpeg': 'audio',
  'audio/mp4': 'audio',
  'audio/ogg': 'audio',
  'audio/wav': 'audio',
  'audio/webm': 'audio',
  'text/plain': 'text',
};

export function viewerKind(contentType: string): ViewerKind {
  return INLINE[baseType(contentType)] ?? 'download';
}

export function baseType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

/**
 * Headers for serving an earner's file. Only the inline types above keep their type (SVG, HTML and the like are
 * sent as octet-stream and downloaded); the sandbox CSP gives anything that does open an opaque origin with no
 * scripts, so it cannot reach the session.
 */
export function fileHeaders(file: { contentType: string; filename: string; size: number }, download: boolean): Record<string, string> {
  const kind = viewerKind(file.contentType);
  const inline = !download && kind !== 'download';
  const type = kind === 'download' ? 'application/octet-stream' : kind === 'text' ? 'text/plain; charset=utf-8' : baseType(file.contentType);
  return {
    'Content-Type': type,
    'Content-Length': String(file.size),
    'Content-Disposition': contentDisposition(inline ? 'inline' : 'attachment', file.filename),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Cache-Control': 'private, no-store',
  };
}

/** RFC 6266: an ASCII fallback (quotes, backslashes and controls removed) and the UTF-8 name (RFC 5987). */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\;]/g, '_').slice(0, 150) || 'evidence';
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** Only web links become links; anything else (javascript:, data:) is shown as text. */
export function safeHttpUrl(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : null;
  } catch {
    return null;
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 102.4) / 10} KB`;
  return `${Math.round(bytes / (1024 * 102.4)) / 10} MB`;
}
