import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A software authenticator for tests (ES256, attestation 'none'): it answers the options our
 * server hands out exactly as a browser with a platform authenticator would, so the whole
 * ceremony is verified for real. The real-browser journey is test/e2e/passkeys.test.ts.
 */

const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

export interface SoftAuthenticator {
  readonly credentialId: string;
  /** The signature counter it will report next time minus one; set it to simulate a clone. */
  counter: number;
  /** Authenticators of synced passkeys never count: they always report 0. */
  counts: boolean;
  create(
    options: PublicKeyCredentialCreationOptionsJSON,
    overrides?: { origin?: string; userVerified?: boolean; type?: string },
  ): RegistrationResponseJSON;
  get(
    options: PublicKeyCredentialRequestOptionsJSON,
    overrides?: { origin?: string; userVerified?: boolean; rpID?: string; userHandle?: string },
  ): AuthenticationResponseJSON;
}

const b64url = (data: Uint8Array | string) => Buffer.from(data).toString('base64url');

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function softAuthenticator(options: { rpID: string; origin: string }): SoftAuthenticator {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const credentialId = randomBytes(16);
  const cose = isoCBOR.encode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x ?? '', 'base64url')],
      [-3, Buffer.from(jwk.y ?? '', 'base64url')],
    ]),
  );
  const rpIdHash = (rpID: string) => createHash('sha256').update(rpID).digest();
  let userHandle: string | undefined;
  const clientData = (type: string, challenge: string, origin: string) =>
    Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  const self: SoftAuthenticator = {
    credentialId: b64url(credentialId),
    counter: 0,
    counts: true,
    create(creation, overrides = {}) {
      userHandle = creation.user.id;
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(credentialId.length);
      const flags = UP | AT | (overrides.userVerified === false ? 0 : UV);
      const authData = Buffer.concat([
        rpIdHash(creation.rp.id ?? options.rpID),
        Buffer.from([flags]),
        u32(self.counter),
        Buffer.alloc(16),
        idLength,
        credentialId,
        cose,
      ]);
      const attestationObject = isoCBOR.encode(
        new Map<string, string | Uint8Array | Map<string, number>>([
          ['fmt', 'none'],
          ['attStmt', new Map<string, number>()],
          ['authData', authData],
        ]),
      );
      const data = clientData(
        overrides.type ?? 'webauthn.create',
        creation.challenge,
        overrides.origin ?? options.origin,
      );
      return {
        id: self.credentialId,
        rawId: self.credentialId,
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64url(data),
          attestationObject: b64url(attestationObject),
          transports: ['internal'],
        },
      };
    },
    get(request, overrides = {}) {
      if (self.counts) self.counter += 1;
      const flags = UP | (overrides.userVerified === false ? 0 : UV);
      const authData = Buffer.concat([
        rpIdHash(overrides.rpID ?? request.rpId ?? options.rpID),
        Buffer.from([flags]),
        u32(self.counts ? self.counter : 0),
      ]);
      const data = clientData('webauthn.get', request.challenge, overrides.origin ?? options.origin);
      const signature = sign(
        'sha256',
        Buffer.concat([authData, createHash('sha256').update(data).digest()]),
        privateKey,
      );
      const handle = overrides.userHandle ?? userHandle;
      return {
        id: self.credentialId,
        rawId: self.credentialId,
        type: 'public-key',
        authenticatorAttachment: 'platform',
        clientExtensionResults: {},
        response: {
          clientDataJSON: b64url(data),
          authenticatorData: b64url(authData),
          signature: b64url(signature),
          ...(handle ? { userHandle: handle } : {}),
        },
      };
    },
  };
  return self;
}
