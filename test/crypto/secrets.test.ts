import { Secrets, SecretOpenError, aadFor, deriveKey } from '../../src/crypto/secrets';

describe('secrets at rest (AES-256-GCM, HKDF-derived key)', () => {
  const root = 'a-root-secret-of-enough-length-0123456789';
  const secrets = new Secrets(root);
  const aad = aadFor('canvas.user.access', 'tenant-1', 'user-1');
  const token = '1~s3cr3tCanvasAccessTokenValue';

  it('round-trips, with a fresh nonce every time', () => {
    const a = secrets.seal(token, aad);
    const b = secrets.seal(token, aad);
    expect(a).not.toBe(b);
    expect(secrets.open(a, aad)).toBe(token);
    expect(secrets.open(b, aad)).toBe(token);
    expect(new Secrets(root).open(a, aad)).toBe(token);
    expect(secrets.open(secrets.seal('', aad), aad)).toBe('');
    expect(secrets.open(secrets.seal('é ✓ 🎓', aad), aad)).toBe('é ✓ 🎓');
  });

  it('writes a versioned v1.<nonce>.<ciphertext+tag> base64url string with no plaintext in it', () => {
    const sealed = secrets.seal(token, aad);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(token);
    expect(sealed).not.toContain('s3cr3t');
    expect(Buffer.from(sealed.split('.')[2]!, 'base64url').toString('latin1')).not.toContain('s3cr3t');
    // ciphertext + 16-byte tag
    expect(Buffer.from(sealed.split('.')[2]!, 'base64url')).toHaveLength(Buffer.byteLength(token) + 16);
  });

  it('detects tampering with the ciphertext, the tag or the nonce', () => {
    const sealed = secrets.seal(token, aad);
    const [v, nonce, body] = sealed.split('.') as [string, string, string];
    const flip = (s: string, i: number): string => {
      const buf = Buffer.from(s, 'base64url');
      buf[i] = buf[i]! ^ 0x01;
      return buf.toString('base64url');
    };
    expect(() => secrets.open(`${v}.${nonce}.${flip(body, 0)}`, aad)).toThrow(SecretOpenError);
    expect(() => secrets.open(`${v}.${nonce}.${flip(body, Buffer.from(body, 'base64url').length - 1)}`, aad)).toThrow(SecretOpenError);
    expect(() => secrets.open(`${v}.${flip(nonce, 3)}.${body}`, aad)).toThrow(SecretOpenError);
    expect(() => secrets.open(`${v}.${nonce}.${body.slice(0, -4)}`, aad)).toThrow(SecretOpenError);
    expect(() => secrets.open('not sealed at all', aad)).toThrow(SecretOpenError);
    expect(() => secrets.open(`v9.${nonce}.${body}`, aad)).toThrow(/key version v9/);
  });

  it('refuses a ciphertext copied to another row or column (AAD)', () => {
    const sealed = secrets.seal(token, aad);
    expect(() => secrets.open(sealed, aadFor('canvas.user.access', 'tenant-2', 'user-1'))).toThrow(SecretOpenError);
    expect(() => secrets.open(sealed, aadFor('canvas.user.access', 'tenant-1', 'user-2'))).toThrow(SecretOpenError);
    expect(() => secrets.open(sealed, aadFor('canvas.user.refresh', 'tenant-1', 'user-1'))).toThrow(SecretOpenError);
  });

  it('cannot be opened with another root secret or another purpose', () => {
    const sealed = secrets.seal(token, aad);
    expect(() => new Secrets('another-root-secret-of-enough-length-xyz').open(sealed, aad)).toThrow(SecretOpenError);
    expect(() => new Secrets(root, 'another-purpose').open(sealed, aad)).toThrow(SecretOpenError);
    expect(deriveKey(root, 'a')).not.toEqual(deriveKey(root, 'b'));
    expect(deriveKey(root, 'a')).toHaveLength(32);
  });
});
