/**
 * What a file really is, from its first bytes (magic numbers), to check the content type Canvas declares for
 * a submission attachment. Only the kinds educators hand in as evidence; anything else is `undefined`.
 */
export function detectContentType(b: Buffer): string | undefined {
  const starts = (sig: number[], at = 0) => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);
  const ascii = (s: string, at = 0) => b.length >= at + s.length && b.subarray(at, at + s.length).toString('latin1') === s;
  if (ascii('%PDF-')) return 'application/pdf';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (ascii('GIF87a') || ascii('GIF89a')) return 'image/gif';
  if (ascii('RIFF') && ascii('WEBP', 8)) return 'image/webp';
  if (ascii('RIFF') && ascii('WAVE', 8)) return 'audio/wav';
  if (ascii('ftyp', 4)) {
    const brand = b.subarray(8, 12).toString('latin1');
    if (brand.startsWith('M4A')) return 'audio/mp4';
    if (brand === 'qt  ') return 'video/quicktime';
    if (brand.startsWith('heic') || brand.startsWith('heix') || brand.startsWith('mif1')) return 'image/heic';
    return 'video/mp4';
  }
  if (starts([0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm';
  if (ascii('ID3') || starts([0xff, 0xfb]) || starts([0xff, 0xf3])) return 'audio/mpeg';
  if (ascii('OggS')) return 'audio/ogg';
  if (starts([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) return 'application/x-ole-storage';
  if (starts([0x50, 0x4b, 0x03, 0x04]) || starts([0x50, 0x4b, 0x05, 0x06])) return zipKind(b);
  if (looksLikeText(b)) {
    const head = b.subarray(0, 512).toString('utf8').trimStart().toLowerCase();
    if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'image/svg+xml';
    if (head.startsWith('<!doctype html') || head.startsWith('<html')) return 'text/html';
    return 'text/plain';
  }
  return undefined;
}

/** Office Open XML and OpenDocument files are zip archives; the first entry names tell them apart. */
function zipKind(b: Buffer): string {
  const head = b.subarray(0, Math.min(b.length, 4096)).toString('latin1');
  if (head.includes('word/')) return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
  if (head.includes('xl/')) return 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  if (head.includes('ppt/')) return 'application/vnd.openxmlformats-officedocument.presentationml.presentation';
  if (head.includes('mimetypeapplication/vnd.oasis.opendocument.text')) return 'application/vnd.oasis.opendocument.text';
  return 'application/zip';
}

function looksLikeText(b: Buffer): boolean {
  const sample = b.subarray(0, 1024);
  if (sample.length === 0) return true;
  for (const x of sample) if (x === 0 || (x < 0x09) || (x > 0x0d && x < 0x20 && x !== 0x1b)) return false;
  return true;
}

const FAMILIES: Record<string, string[]> = {
  // Canvas and browsers name the same kind differently; these count as the same thing.
  'image/jpeg': ['image/jpg', 'image/pjpeg'],
  'text/plain': ['text/csv', 'text/markdown', 'application/json', 'text/x-markdown', 'application/csv', 'text/rtf', 'application/rtf'],
  'application/x-ole-storage': ['application/msword', 'application/vnd.ms-excel', 'application/vnd.ms-powerpoint'],
  'application/zip': ['application/x-zip-compressed', 'application/vnd.oasis.opendocument.text', 'application/vnd.oasis.opendocument.spreadsheet', 'application/vnd.oasis.opendocument.presentation'],
  'video/mp4': ['video/x-m4v', 'audio/mp4', 'audio/x-m4a'],
  'audio/mpeg': ['audio/mp3'],
  'audio/wav': ['audio/x-wav', 'audio/wave'],
  'text/html': ['text/plain'],
};

/**
 * Whether the declared content type agrees with the bytes. An unrecognised format is accepted only when the
 * declared type is not one we can recognise (we cannot tell); a recognised format must match.
 */
export function contentTypeMatches(declared: string, detected: string | undefined): boolean {
  const d = declared.split(';')[0]!.trim().toLowerCase();
  if (!detected) return !RECOGNISED.has(d);
  if (d === detected) return true;
  return (FAMILIES[detected] ?? []).includes(d);
}

const RECOGNISED = new Set(['application/pdf', 'image/png', 'image/jpeg', 'image/jpg', 'image/gif', 'image/webp', 'image/svg+xml', 'text/plain', 'text/html']);
