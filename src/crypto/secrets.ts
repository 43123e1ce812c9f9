import crypto from 'node:crypto';

/**
 * Secrets at rest (Canvas tokens, client secrets): AES-256-GCM with a key derived from the root secret by HKDF.
 *
 * Format: `v1.<nonce>.<ciphertext+tag>` (base64url). The version names the key derivation, so a later key can be
 * added as `v2` while `v1` rows stay readable until re-sealed. The AAD binds a ciphertext to the row and column
 * it was written for (e.g. `canvas.user.access|<tenant>|<user>`): a value copied to another row fails to open.
 */

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = /^v(\d+)\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22,})$/;

export class SecretOpenError extends Error {
  constructor(message = 'A stored secret could not be decrypted (wrong key, wrong row, or tampered).') {
    super(message);
    this.name = 'SecretOpenError';
  }
}

/** Derives a 256-bit key for one purpose; different purposes never share a key. */
export function deriveKey(rootSecret: string, purpose: string): Buffer {
  if (rootSecret.length < 16) throw new Error('the root secret is too short to derive keys from');
  return Buffer.from(crypto.hkdfSync('sha256', Buffer.from(rootSecret, 'utf8'), Buffer.from('microcred/hkdf-salt/v1', 'utf8'), Buffer.from(purpose, 'utf8'), 32));
}

export class Secrets {
  private readonly keys: Map<string, Buffer>;

  /** `purpose` labels the derived key (HKDF info), e.g. 'secrets-at-rest'. */
  constructor(rootSecret: string, purpose = 'secrets-at-rest') {
    this.keys = new Map([[VERSION, deriveKey(rootSecret, `microcred:${purpose}:${VERSION}:aes-256-gcm`)]]);
  }

  seal(plaintext: string, aad: string): string {
    const key = this.keys.get(VERSION) as Buffer;
    const nonce = crypto.randomBytes(NONCE_BYTES);
    const cipher = crypto.createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${nonce.toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string, aad: string): string {
    const m = FORMAT.exec(sealed);
    if (!m) throw new SecretOpenError('A stored secret is not in a format microcred knows.');
    const key = this.keys.get(`v${m[1]}`);
    if (!key) throw new SecretOpenError(`A stored secret uses key version v${m[1]}, which this instance does not have.`);
    const nonce = Buffer.from(m[2] as string, 'base64url');
    const body = Buffer.from(m[3] as string, 'base64url');
    if (nonce.length !== NONCE_BYTES || body.length < TAG_BYTES) throw new SecretOpenError();
    try {
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretOpenError();
    }
  }
}

/** The AAD of a secret column: what it is, and the row it belongs to. */
export function aadFor(purpose: string, ...rowKey: string[]): string {
  return [purpose, ...rowKey].join('|');
}
