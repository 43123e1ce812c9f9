import crypto from 'node:crypto';

/** base58btc (multibase `z`) and Ed25519 Multikey encodings, with node:crypto keys. */

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function base58btc(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = n * 256n + BigInt(b);
  let out = '';
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

export function base58btcDecode(s: string): Buffer | null {
  let n = 0n;
  for (const c of s) {
    const v = B58.indexOf(c);
    if (v < 0) return null;
    n = n * 58n + BigInt(v);
  }
  let hex = n === 0n ? '' : n.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const lead = /^1*/.exec(s)![0].length;
  return Buffer.concat([Buffer.alloc(lead), Buffer.from(hex, 'hex')]);
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export function privateKeyFromSeed(seed: Buffer): crypto.KeyObject {
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
}

/** Ed25519 public key as a Multikey: `z` + base58btc(0xed01 ‖ key). */
export function multikeyFromSeed(seed: Buffer): string {
  const spki = crypto.createPublicKey(privateKeyFromSeed(seed)).export({ format: 'der', type: 'spki' });
  return 'z' + base58btc(Buffer.concat([Buffer.from([0xed, 0x01]), spki.subarray(spki.length - 32)]));
}

/** An Ed25519 public key from its Multikey form (null when it is not one). */
export function publicKeyFromMultikey(multibase: string): crypto.KeyObject | null {
  if (!multibase.startsWith('z')) return null;
  const raw = base58btcDecode(multibase.slice(1));
  if (!raw || raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) return null;
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw.subarray(2)]), format: 'der', type: 'spki' });
}
