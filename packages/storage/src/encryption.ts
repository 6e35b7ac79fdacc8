import { createCipheriv, createHash, hkdfSync, timingSafeEqual } from 'node:crypto';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { Decrypter, Encrypter, type Recipient } from 'age-encryption';
import { InputError } from '@deploy-suite/kit';

export type EncryptionSettings =
  { kind: 'age-recipients'; recipients: string[] } | { kind: 'age-passphrase'; passphrase: string } | { kind: 'none' };

export type DecryptionSettings = { identities: string[]; passphrase?: string };

/** A stable, public fingerprint of a recipient for the manifest. */
export function recipientFingerprint(recipient: string): string {
  return `sha256:${createHash('sha256').update(recipient).digest('hex').slice(0, 16)}`;
}

const RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/;
const IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;

export function checkRecipient(input: string, recipient: string): void {
  if (!RECIPIENT.test(recipient)) {
    throw new InputError(
      input,
      `has "${recipient.slice(0, 12)}…", which is not an age X25519 recipient (age1 followed by 58 characters)`,
      `${input}: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p`,
    );
  }
}

export function checkIdentity(input: string, identity: string): void {
  if (!IDENTITY.test(identity)) {
    throw new InputError(
      input,
      'is not an age X25519 identity (AGE-SECRET-KEY-1…)',
      `${input}: \${{ secrets.BACKUP_AGE_IDENTITY }}`,
    );
  }
}

/**
 * Encrypts a stream with age. Any failure to set up encryption throws before a byte is
 * produced, so the caller can never fall back to uploading plaintext.
 *
 * To recipients, the header (file key, stanzas, MAC, payload nonce) is made by age-encryption
 * and the payload is sealed by Node's native ChaCha20-Poly1305 (see `sealedPayload`): the same
 * format and layout the library writes, at a fraction of its CPU and off the web-streams path. A
 * passphrase stays wholly with the library.
 */
export async function encryptStream(input: Readable, settings: EncryptionSettings): Promise<Readable> {
  if (settings.kind === 'none') return input;
  if (settings.kind === 'age-recipients') return sealedPayload(input, settings.recipients);
  const encrypter = new Encrypter();
  encrypter.setPassphrase(settings.passphrase);
  const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
  const encrypted = await encrypter.encrypt(web);
  return Readable.fromWeb(encrypted);
}

/** age's STREAM: 64 KiB plaintext chunks, each sealed with ChaCha20-Poly1305 under the payload key. */
const STREAM_CHUNK = 64 * 1024;
const TAG_BYTES = 16;
const NONCE_BYTES = 16;

function sealChunk(key: Buffer, nonce: Buffer, plain: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  const sealed = cipher.update(plain);
  return Buffer.concat([sealed, cipher.final(), cipher.getAuthTag()], plain.length + TAG_BYTES);
}

/**
 * The library writes the header: an extra Recipient, added first, sees the file key and adds no
 * stanza, so the header is exactly the one the library writes for these recipients. The library
 * then encrypts an empty payload: header, 16-byte nonce, and one empty final chunk (its tag alone).
 * That tag is recomputed here from the file key and must match before a byte is produced, so a
 * library that laid its output out otherwise fails the backup instead of writing something age
 * cannot open. The payload follows the age spec: chunk n (11-byte big-endian counter) sealed under
 * HKDF-SHA256(file key, nonce, "payload"); the last chunk, never empty unless the whole payload is,
 * carries the flag byte 1.
 */
async function sealedPayload(input: Readable, recipients: string[]): Promise<Readable> {
  let fileKey: Uint8Array | undefined;
  const capture: Recipient = {
    wrapFileKey(key: Uint8Array) {
      fileKey = Uint8Array.from(key);
      return [];
    },
  };
  const encrypter = new Encrypter();
  encrypter.addRecipient(capture);
  for (const recipient of recipients) encrypter.addRecipient(recipient);
  const empty = await encrypter.encrypt(new Uint8Array(0));
  if (fileKey?.length !== 16 || empty.length < NONCE_BYTES + TAG_BYTES)
    throw new Error('age-encryption did not hand its recipients a 16-byte file key');
  const prefix = Buffer.from(empty.subarray(0, empty.length - TAG_BYTES));
  const nonce = prefix.subarray(prefix.length - NONCE_BYTES);
  const key = Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
  const onlyChunk = Buffer.alloc(12);
  onlyChunk[11] = 1;
  const expected = sealChunk(key, onlyChunk, Buffer.alloc(0));
  if (!timingSafeEqual(expected, Buffer.from(empty.subarray(empty.length - TAG_BYTES))))
    throw new Error('age-encryption wrote an empty payload that does not match the age STREAM format');
  return pipeline(input, new AgePayload(key, prefix), () => undefined);
}

class AgePayload extends Transform {
  private readonly buffer = Buffer.allocUnsafe(STREAM_CHUNK);
  private used = 0;
  private readonly nonce = Buffer.alloc(12);
  private readonly key: Buffer;
  private prefix: Buffer | undefined;

  constructor(key: Buffer, prefix: Buffer) {
    super();
    this.key = key;
    this.prefix = prefix;
  }

  private start(): void {
    if (this.prefix === undefined) return;
    this.push(this.prefix);
    this.prefix = undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.start();
    let offset = 0;
    while (offset < chunk.length) {
      // A full chunk is sealed only once more bytes follow: the last chunk carries the flag.
      if (this.used === STREAM_CHUNK) {
        this.push(sealChunk(this.key, this.nonce, this.buffer));
        for (let i = 10; i >= 0; i--) {
          this.nonce[i] = (this.nonce[i]! + 1) & 0xff;
          if (this.nonce[i] !== 0) break;
        }
        this.used = 0;
      }
      const n = Math.min(STREAM_CHUNK - this.used, chunk.length - offset);
      chunk.copy(this.buffer, this.used, offset, offset + n);
      this.used += n;
      offset += n;
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.start();
    this.nonce[11] = 1;
    this.push(sealChunk(this.key, this.nonce, this.buffer.subarray(0, this.used)));
    callback();
  }
}

/**
 * Decrypts an age stream. The header is checked here, so a wrong key fails before the
 * caller touches a database.
 */
export async function decryptStream(input: Readable, settings: DecryptionSettings): Promise<Readable> {
  const decrypter = new Decrypter();
  for (const identity of settings.identities) decrypter.addIdentity(identity);
  if (settings.passphrase !== undefined) decrypter.addPassphrase(settings.passphrase);
  const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
  const decrypted = await decrypter.decrypt(web);
  return Readable.fromWeb(decrypted);
}

/** Encrypts a small buffer (a manifest's details) the same way as the backup itself. */
export async function encryptBytes(
  plain: Uint8Array,
  settings: Exclude<EncryptionSettings, { kind: 'none' }>,
): Promise<Uint8Array> {
  const encrypter = new Encrypter();
  if (settings.kind === 'age-passphrase') encrypter.setPassphrase(settings.passphrase);
  else for (const recipient of settings.recipients) encrypter.addRecipient(recipient);
  return encrypter.encrypt(plain);
}

export async function decryptBytes(sealed: Uint8Array, settings: DecryptionSettings): Promise<Uint8Array> {
  const decrypter = new Decrypter();
  for (const identity of settings.identities) decrypter.addIdentity(identity);
  if (settings.passphrase !== undefined) decrypter.addPassphrase(settings.passphrase);
  return decrypter.decrypt(sealed);
}
