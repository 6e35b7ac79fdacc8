import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { InputError } from '@deploy-suite/kit';

/**
 * Manifests are signed with Ed25519. The backup (and verify) job holds the private signing key;
 * restore, list and prune need only the public verifying key, which the workflow pins in clear.
 * A job that can only read the catalog can therefore never forge an entry, and anyone who can
 * write to the store without the key can plant objects but never a backup we will use.
 */
export interface ManifestSigner {
  readonly keyId: string;
  sign(text: string): string;
}

export interface ManifestVerifier {
  readonly keyId: string;
  verify(text: string, signature: string): boolean;
}

/** Domain separation: a signature over a manifest cannot be replayed as anything else. */
const CONTEXT = 'deploy-suite backup manifest v2\n';

export const SIGNING_KEY_EXAMPLE =
  'signing-key: ${{ secrets.BACKUP_SIGNING_KEY }} (made with: openssl genpkey -algorithm ed25519)';
export const VERIFY_KEY_EXAMPLE =
  'verify-key: | (made with: openssl pkey -in signing.pem -pubout)\n  -----BEGIN PUBLIC KEY-----\n  MCowBQYDK2VwAyEA…\n  -----END PUBLIC KEY-----';

function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

function message(text: string): Buffer {
  return Buffer.from(CONTEXT + text, 'utf8');
}

/** A verifier from a public key (PEM). */
export function verifierFromPublicKey(publicKey: KeyObject): ManifestVerifier {
  const keyId = keyIdOf(publicKey);
  return {
    keyId,
    verify(text, signature) {
      if (!/^[A-Za-z0-9+/]{86}==$/.test(signature)) return false;
      return verify(null, message(text), publicKey, Buffer.from(signature, 'base64'));
    },
  };
}

export function parseSigningKey(input: string, pem: string): ManifestSigner & { verifier: ManifestVerifier } {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new InputError(input, 'is not a PEM private key', SIGNING_KEY_EXAMPLE);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InputError(
      input,
      `must be an Ed25519 key, got ${privateKey.asymmetricKeyType ?? 'an unknown type'}`,
      SIGNING_KEY_EXAMPLE,
    );
  }
  const verifier = verifierFromPublicKey(createPublicKey(privateKey));
  return {
    keyId: verifier.keyId,
    verifier,
    sign: (text) => sign(null, message(text), privateKey).toString('base64'),
  };
}

export function parseVerifyKey(input: string, pem: string): ManifestVerifier {
  // createPublicKey would quietly derive the public half of a private PEM: refuse it, so a secret
  // never sits in an input that is not masked.
  if (/PRIVATE KEY/.test(pem)) {
    throw new InputError(input, 'must be the public key, not the private one', VERIFY_KEY_EXAMPLE);
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(pem);
  } catch {
    throw new InputError(input, 'is not a PEM public key', VERIFY_KEY_EXAMPLE);
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') {
    throw new InputError(
      input,
      `must be an Ed25519 key, got ${publicKey.asymmetricKeyType ?? 'an unknown type'}`,
      VERIFY_KEY_EXAMPLE,
    );
  }
  return verifierFromPublicKey(publicKey);
}
