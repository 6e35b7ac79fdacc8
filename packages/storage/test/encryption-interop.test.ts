import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as age from 'age-encryption';
import { decryptStream, encryptStream } from '../src/encryption.ts';

/**
 * The payload is sealed with Node's own ChaCha20-Poly1305 under the header the age library
 * writes: what comes out must open with the age binary and with the library, at every chunk
 * edge (64 KiB), whatever pieces the input arrives in, and a changed byte must be refused.
 */

const CHUNK = 64 * 1024;
const SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 17, 5 * 1024 * 1024 + 3];

let dir: string;
let identities: string[];
let recipients: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'age-interop-'));
  identities = [await age.generateIdentity(), await age.generateIdentity()];
  recipients = await Promise.all(identities.map((identity) => age.identityToRecipient(identity)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The input as a stream of pieces of `piece` bytes (a dump arrives in uneven chunks). */
function piecesOf(data: Buffer, piece: number): Readable {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += piece) parts.push(data.subarray(at, at + piece));
  return Readable.from(parts);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function seal(data: Buffer, piece: number, to: string[]): Promise<Buffer> {
  return collect(await encryptStream(piecesOf(data, piece), { kind: 'age-recipients', recipients: to }));
}

function openWithAgeBinary(sealed: Buffer, identity: string): Buffer {
  const sealedPath = join(dir, `sealed-${randomBytes(4).toString('hex')}`);
  const keyPath = join(dir, `key-${randomBytes(4).toString('hex')}`);
  writeFileSync(sealedPath, sealed);
  writeFileSync(keyPath, `${identity}\n`, { mode: 0o600 });
  return execFileSync('age', ['--decrypt', '-i', keyPath, sealedPath], { maxBuffer: 64 * 1024 * 1024 });
}

describe('age payload sealed natively', () => {
  it.each(SIZES)('opens with the age binary and the library at %i bytes', async (size) => {
    const data = randomBytes(size);
    for (const piece of [1000, CHUNK, 3 * CHUNK + 5]) {
      const sealed = await seal(data, piece, recipients);
      expect(openWithAgeBinary(sealed, identities[0]!).equals(data)).toBe(true);
      expect(openWithAgeBinary(sealed, identities[1]!).equals(data)).toBe(true);
      const opened = await collect(await decryptStream(Readable.from([sealed]), { identities: [identities[1]!] }));
      expect(opened.equals(data)).toBe(true);
    }
  });

  it('is refused by both when a byte of the payload changes', async () => {
    const data = randomBytes(2 * CHUNK + 10);
    const sealed = await seal(data, 4096, recipients.slice(0, 1));
    const tampered = Buffer.from(sealed);
    const at = tampered.length - 100;
    tampered[at] = tampered[at]! ^ 1;
    expect(() => openWithAgeBinary(tampered, identities[0]!)).toThrow();
    await expect(
      collect(await decryptStream(Readable.from([tampered]), { identities: [identities[0]!] })),
    ).rejects.toThrow();
  });

  it('is refused when chunks are cut off at a chunk edge (a truncated object)', async () => {
    const data = randomBytes(3 * CHUNK);
    const sealed = await seal(data, CHUNK, recipients.slice(0, 1));
    // Drop the last sealed chunk (its 64 KiB and its 16-byte tag): what is left must not open.
    const truncated = sealed.subarray(0, sealed.length - (CHUNK + 16));
    expect(() => openWithAgeBinary(truncated, identities[0]!)).toThrow();
  });
});
