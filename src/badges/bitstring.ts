import zlib from 'node:zlib';

/**
 * W3C Bitstring Status List encoding: the bitstring, GZIP-compressed, as multibase base64url (`u` prefix). Bit 0
 * is the left-most (most significant) bit of the first byte.
 */

/** 131,072 entries (16 KB): the spec's minimum for herd privacy. */
export const LIST_LENGTH = 131_072;
/** A list hands out at most a quarter of its indexes, so random picks rarely collide. */
export const LIST_CAPACITY = LIST_LENGTH / 4;

export function emptyBitstring(length = LIST_LENGTH): Buffer {
  return Buffer.alloc(Math.ceil(length / 8));
}

export function setBit(bits: Buffer, index: number, value = true): void {
  const byte = index >> 3;
  const mask = 0x80 >> (index & 7);
  bits[byte] = value ? bits[byte]! | mask : bits[byte]! & ~mask;
}

export function getBit(bits: Buffer, index: number): boolean {
  return ((bits[index >> 3] ?? 0) & (0x80 >> (index & 7))) !== 0;
}

export function encodeBitstring(bits: Buffer): string {
  return 'u' + zlib.gzipSync(bits).toString('base64url');
}

/** Decodes an `encodedList`; the inflated size is bounded so a hostile list cannot exhaust memory. */
export function decodeBitstring(encoded: string, maxBytes = 16 * 1024 * 1024): Buffer {
  // Multibase 'u' (base64url) is what the spec requires; older lists omitted the prefix.
  const b64 = encoded.startsWith('u') ? encoded.slice(1) : encoded;
  return zlib.gunzipSync(Buffer.from(b64, 'base64url'), { maxOutputLength: maxBytes });
}
