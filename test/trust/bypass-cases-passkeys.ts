import { json, type RouteCase } from './bypass-cases.ts';

/**
 * Bypass-suite cases for the passkeys routes. A's passkey (w.ids.passkey) can be neither renamed
 * nor revoked by anyone else; the lists and options only ever name the caller; a forged assertion
 * for A's passkey signs no one in.
 */

/** A forged assertion naming A's passkey (the answer must be the same 401 as for any other). */
const forgedAssertion = (credentialId: string) => ({
  credential: {
    id: credentialId,
    rawId: credentialId,
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: Buffer.from(
        JSON.stringify({ type: 'webauthn.get', challenge: 'Zm9yZ2Vk', origin: 'http://127.0.0.1:3000' }),
      ).toString('base64url'),
      authenticatorData: 'AAAA',
      signature: 'AAAA',
    },
  },
});

export const PASSKEY_CASES: RouteCase[] = [
  {
    route: 'POST /api/passkeys/registration/options',
    credential: 'session',
    probes: () => [
      {
        label: 'own options',
        method: 'POST',
        url: '/api/passkeys/registration/options',
        expect: 200,
        control: 200,
      },
    ],
  },
  {
    route: 'POST /api/passkeys/registration',
    credential: 'session',
    probes: (w) => [
      {
        label: "A's credential id with an unknown challenge",
        method: 'POST',
        url: '/api/passkeys/registration',
        ...json({
          credential: {
            id: `cred-${w.ids.passkey}`,
            rawId: 'AAAA',
            type: 'public-key',
            clientExtensionResults: {},
            response: { clientDataJSON: 'e30', attestationObject: 'AAAA' },
          },
        }),
        expect: 400,
        control: 400,
      },
    ],
  },
  {
    route: 'POST /api/passkeys/authentication/options',
    credential: 'none',
    probes: () => [
      { label: 'sign-in options', method: 'POST', url: '/api/passkeys/authentication/options', expect: 200 },
    ],
  },
  {
    route: 'POST /api/passkeys/authentication',
    credential: 'none',
    probes: (w) => [
      {
        label: "forged assertion for A's passkey",
        method: 'POST',
        url: '/api/passkeys/authentication',
        ...json(forgedAssertion(`cred-${w.ids.passkey}`)),
        expect: 401,
        denial: true,
      },
    ],
  },
  {
    route: 'GET /api/passkeys',
    credential: 'session',
    probes: () => [{ label: 'own list', method: 'GET', url: '/api/passkeys', expect: 200, control: 200 }],
  },
  {
    route: 'PATCH /api/passkeys/:id',
    credential: 'session',
    probes: (w) => [
      {
        label: "rename A's passkey",
        method: 'PATCH',
        url: `/api/passkeys/${w.ids.passkey}`,
        ...json({ name: 'taken over' }),
        expect: 404,
        denial: true,
        control: 200,
      },
    ],
  },
  {
    route: 'DELETE /api/passkeys/:id',
    credential: 'session',
    probes: (w) => [
      {
        label: "revoke A's passkey",
        method: 'DELETE',
        url: `/api/passkeys/${w.ids.passkey}`,
        expect: 404,
        denial: true,
      },
    ],
  },
];
