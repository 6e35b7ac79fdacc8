import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Decrypter, Encrypter } from 'age-encryption';
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
 */
export async function encryptStream(input: Readable, settings: EncryptionSettings): Promise<Readable> {
  if (settings.kind === 'none') return input;
  const encrypter = new Encrypter();
  if (settings.kind === 'age-passphrase') encrypter.setPassphrase(settings.passphrase);
  else for (const recipient of settings.recipients) encrypter.addRecipient(recipient);
  const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
  const encrypted = await encrypter.encrypt(web);
  return Readable.fromWeb(encrypted);
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
