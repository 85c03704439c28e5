import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, seedPatient, type TestRuntime } from '../harness.ts';

/**
 * Passkeys in a real browser: Chromium with its virtual authenticator (CDP WebAuthn domain, CTAP2,
 * resident keys, user verification) against Carnet listening on http://localhost:<port> (a secure
 * context). The page signs in with a password, creates a passkey, signs out, and signs in again
 * with the passkey only — navigator.credentials.create/get with the server's options as they are.
 */

const CHROMIUM = process.env.CARNET_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`test/e2e/passkeys.test.ts skipped: no Chromium at ${CHROMIUM}`);

const LOGIN = 'passkey.e2e@test.carnet';
const PASSWORD = 'correct horse battery staple';

/** Browser-side helpers (the test's tsconfig has no DOM types: this is plain page script). */
const PAGE_HELPERS = `
window.b64 = {
  toBuf(s) {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
  },
  fromBuf(buf) {
    let s = '';
    for (const x of new Uint8Array(buf)) s += String.fromCharCode(x);
    return btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  },
};
// A PublicKeyCredential as JSON (base64url), with the response fields of its ceremony.
window.credentialJson = (cred, response) => ({
  id: cred.id,
  rawId: b64.fromBuf(cred.rawId),
  type: cred.type,
  authenticatorAttachment: cred.authenticatorAttachment || undefined,
  clientExtensionResults: cred.getClientExtensionResults(),
  response: { clientDataJSON: b64.fromBuf(cred.response.clientDataJSON), ...response },
});
window.api = async (method, url, body) => {
  const csrf = document.cookie.split('; ').find((c) => c.startsWith('carnet_csrf='));
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  if (csrf) headers['x-csrf-token'] = decodeURIComponent(csrf.slice('carnet_csrf='.length));
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};
true;
`;

const REGISTER = `(async () => {
  const opts = await api('POST', '/api/passkeys/registration/options');
  if (opts.status !== 200) return { step: 'options', ...opts };
  const o = opts.body;
  const cred = await navigator.credentials.create({
    publicKey: {
      ...o,
      challenge: b64.toBuf(o.challenge),
      user: { ...o.user, id: b64.toBuf(o.user.id) },
      excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: b64.toBuf(c.id) })),
    },
  });
  const r = cred.response;
  const credential = credentialJson(cred, {
    attestationObject: b64.fromBuf(r.attestationObject),
    authenticatorData: b64.fromBuf(r.getAuthenticatorData()),
    transports: r.getTransports(),
    publicKeyAlgorithm: r.getPublicKeyAlgorithm(),
    publicKey: b64.fromBuf(r.getPublicKey()),
  });
  return { step: 'register', ...(await api('POST', '/api/passkeys/registration', { credential, name: 'Chromium' })) };
})()`;

const SIGN_IN = `(async () => {
  const opts = await api('POST', '/api/passkeys/authentication/options');
  if (opts.status !== 200) return { step: 'options', ...opts };
  const o = opts.body;
  const cred = await navigator.credentials.get({
    publicKey: {
      ...o,
      challenge: b64.toBuf(o.challenge),
      allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: b64.toBuf(c.id) })),
    },
  });
  const r = cred.response;
  const credential = credentialJson(cred, {
    authenticatorData: b64.fromBuf(r.authenticatorData),
    signature: b64.fromBuf(r.signature),
    userHandle: r.userHandle ? b64.fromBuf(r.userHandle) : undefined,
  });
  return { step: 'sign-in', ...(await api('POST', '/api/passkeys/authentication', { credential })) };
})()`;

interface Answer {
  step: string;
  status: number;
  body: unknown;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(!hasChromium)('passkeys in Chromium (virtual authenticator)', () => {
  let rt: TestRuntime;
  let browser: Browser;
  let page: Page;
  let base: string;
  let patientId: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    rt = await createTestRuntime({ env: { CARNET_BASE_URL: base } });
    patientId = (await seedPatient(rt.ctx, { login: LOGIN, password: PASSWORD })).id;
    await rt.app.listen({ port, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage();
    await page.goto(`${base}/healthz`);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    });
    await page.evaluate(PAGE_HELPERS);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await rt?.close();
  });

  const run = async (script: string): Promise<Answer> => page.evaluate<Answer>(script);

  it('registers a passkey after a password sign-in, then signs in with it alone', async () => {
    const signedIn = await run(
      `api('POST', '/api/session', ${JSON.stringify({ login: LOGIN, password: PASSWORD })})`,
    );
    expect(signedIn.status, JSON.stringify(signedIn)).toBe(200);

    const registered = await run(REGISTER);
    expect(registered, JSON.stringify(registered)).toMatchObject({
      status: 201,
      body: { passkey: { name: 'Chromium' } },
    });

    expect((await run(`api('DELETE', '/api/session')`)).status).toBe(204);
    expect((await run(`api('GET', '/api/me')`)).status).toBe(401);

    const signedInAgain = await run(SIGN_IN);
    expect(signedInAgain, JSON.stringify(signedInAgain)).toMatchObject({ status: 200, body: { patientId } });
    const me = await run(`api('GET', '/api/me')`);
    expect(me).toMatchObject({ status: 200, body: { id: patientId } });

    const list = await run(`api('GET', '/api/passkeys')`);
    expect(list).toMatchObject({ status: 200, body: { items: [{ name: 'Chromium' }] } });
    const stored = await rt.ctx.rootDb
      .selectFrom('webauthn_credentials')
      .select(['counter', 'transports'])
      .where('patient_id', '=', patientId)
      .executeTakeFirstOrThrow();
    expect(Number(stored.counter)).toBeGreaterThan(0);
    expect(stored.transports).toEqual(['internal']);
  }, 30_000);
});
