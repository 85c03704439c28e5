import { createECDH, createPrivateKey, createPublicKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, jwtVerify, type JWK } from 'jose';
import type { Config } from '../../config.ts';
import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey, keyedHash, randomToken, sha256 } from '../../platform/crypto.ts';
import * as repo from './oidc-test-provider.repository.ts';
import { IDNPS_RPPS_PREFIX, parseProfessionalIdentifier } from './rpps.ts';

/**
 * A local OpenID Connect provider for TESTS and the embedded demo, modelled on Pro Santé Connect
 * (ANS) so that professional sign-in runs offline. Never a real authentication: whoever opens its
 * page picks a professional from the database, without any credential. Enabled by configuration
 * only (`config.proOidc.testProvider`: demo mode by default, never with DATABASE_URL unless asked).
 *
 * What is modelled on PSC (from its public integration guides; details may differ):
 * - authorization code flow with PKCE S256, `state`, `nonce`; scope `openid scope_all`;
 *   `acr` = `eidas1` (PSC's level for CPS card / e-CPS); client_secret_basic or client_secret_post;
 * - the national professional identifier as `SubjectNameID` and `preferred_username`: the IDNPS,
 *   '8' + RPPS; `sub` is an opaque pairwise-looking value (relying parties map by SubjectNameID);
 * - userinfo with `given_name`, `family_name`, `SubjectRole` (TRE_G15 profession code ^ OID) and
 *   `SubjectRefPro.exercices[]` (codeProfession, codeSavoirFaire);
 * - the issuer in the authorization response (`iss`, RFC 9207).
 * The signing key (ES256) is derived from the master key, so tokens verify across restarts.
 */

export const TEST_PROVIDER_PATH = '/dev/oidc';
/** TRE_G15 (profession de santé) code system OID, as PSC qualifies SubjectRole values. */
const TRE_G15_OID = '1.2.250.1.71.1.2.7';
const CODE_TTL_SECONDS = 60;
const TOKEN_TTL_SECONDS = 300;
const ACR = 'eidas1';

export function testProviderIssuer(config: Pick<Config, 'baseUrl'>): string {
  return `${config.baseUrl}${TEST_PROVIDER_PATH}`;
}

/** The one client the test provider knows: Carnet itself, redirecting to /pro/callback. */
export function testProviderClient(ctx: Pick<Ctx, 'config' | 'masterKey'>): {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
} {
  return {
    clientId: ctx.config.proOidc?.clientId ?? 'carnet',
    clientSecret:
      ctx.config.proOidc?.clientSecret ??
      deriveKey(ctx.masterKey, 'oidc-test-provider:client-secret').toString('base64url'),
    redirectUri: `${ctx.config.baseUrl}/pro/callback`,
  };
}

interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
  kid: string;
}

const keys = new WeakMap<object, Promise<SigningKey>>();

/** The provider's ES256 key: a P-256 scalar derived from the master key (stable across restarts). */
function signingKey(ctx: Pick<Ctx, 'masterKey'>): Promise<SigningKey> {
  let key = keys.get(ctx.masterKey);
  if (!key) {
    key = (async () => {
      const d = deriveKey(ctx.masterKey, 'oidc-test-provider:es256');
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(d);
      const point = ecdh.getPublicKey();
      const jwk = {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33, 65).toString('base64url'),
      };
      const privateKey = createPrivateKey({ key: { ...jwk, d: d.toString('base64url') }, format: 'jwk' });
      const publicKey = createPublicKey(privateKey);
      const publicJwk = await exportJWK(publicKey);
      const kid = await calculateJwkThumbprint(publicJwk);
      return { privateKey, publicKey, publicJwk: { ...publicJwk, kid, alg: 'ES256', use: 'sig' }, kid };
    })();
    keys.set(ctx.masterKey, key);
  }
  return key;
}

export function testProviderMetadata(config: Pick<Config, 'baseUrl'>): Record<string, unknown> {
  const issuer = testProviderIssuer(config);
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    code_challenge_methods_supported: ['S256'],
    scopes_supported: ['openid', 'scope_all'],
    acr_values_supported: [ACR],
    claims_supported: [
      'sub',
      'SubjectNameID',
      'preferred_username',
      'given_name',
      'family_name',
      'SubjectRole',
      'SubjectRefPro',
      'acr',
      'amr',
    ],
    authorization_response_iss_parameter_supported: true,
  };
}

export async function testProviderJwks(ctx: Pick<Ctx, 'masterKey'>): Promise<{ keys: JWK[] }> {
  return { keys: [(await signingKey(ctx)).publicJwk] };
}

/** The parameters of an authorization request the provider accepted. */
export interface TestAuthorizeRequest {
  clientId: string;
  redirectUri: string;
  scope: string;
  state: string;
  nonce: string;
  codeChallenge: string;
}

/** Checks an authorization request (query or form); 400 with the reason otherwise (never redirects then). */
export function checkAuthorizeRequest(
  ctx: Pick<Ctx, 'config' | 'masterKey'>,
  params: Record<string, unknown>,
): TestAuthorizeRequest {
  const str = (name: string): string => {
    const v = params[name];
    if (typeof v !== 'string' || v === '' || v.length > 512)
      throw new AppError('invalid_input', `Missing or invalid parameter ${name}`, name);
    return v;
  };
  const client = testProviderClient(ctx);
  if (str('client_id') !== client.clientId)
    throw new AppError('invalid_input', 'Unknown client', 'client_id');
  if (str('redirect_uri') !== client.redirectUri)
    throw new AppError('invalid_input', 'redirect_uri is not registered for this client', 'redirect_uri');
  if (str('response_type') !== 'code')
    throw new AppError('invalid_input', 'Only response_type=code is supported', 'response_type');
  const scope = str('scope');
  if (!scope.split(' ').includes('openid'))
    throw new AppError('invalid_input', 'The scope must include openid', 'scope');
  if (str('code_challenge_method') !== 'S256')
    throw new AppError('invalid_input', 'PKCE with S256 is required', 'code_challenge_method');
  const codeChallenge = str('code_challenge');
  if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge))
    throw new AppError('invalid_input', 'Malformed code_challenge', 'code_challenge');
  return {
    clientId: client.clientId,
    redirectUri: client.redirectUri,
    scope,
    state: str('state'),
    nonce: str('nonce'),
    codeChallenge,
  };
}

/** The professionals the test page offers (inactive ones too: the relying party must refuse them). */
export async function testProviderProfessionals(ctx: Ctx) {
  return repo.listTestProfessionals(ctx.db, 200);
}

/**
 * The user picked a professional (an RPPS or IDNPS, known to Carnet or not): issues a single-use
 * code and returns where to send the browser.
 */
export async function issueTestCode(
  ctx: Ctx,
  request: TestAuthorizeRequest,
  identifier: string,
): Promise<URL> {
  const parsed = parseProfessionalIdentifier(identifier);
  if (!parsed.ok) throw new AppError('invalid_input', parsed.reason, 'rpps');
  const code = randomToken(32);
  const now = ctx.clock.now();
  await repo.deleteStaleTestCodes(ctx.db, now);
  await repo.insertTestCode(ctx.db, {
    code_hash: sha256(code),
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    code_challenge: request.codeChallenge,
    nonce: request.nonce,
    rpps: parsed.rpps,
    created_at: now,
    expires_at: new Date(now.getTime() + CODE_TTL_SECONDS * 1000),
  });
  const url = new URL(request.redirectUri);
  url.searchParams.set('code', code);
  url.searchParams.set('state', request.state);
  url.searchParams.set('iss', testProviderIssuer(ctx.config));
  return url;
}

/** The answer to a refused authorization: the browser goes back with error=access_denied. */
export function deniedRedirect(config: Pick<Config, 'baseUrl'>, request: TestAuthorizeRequest): URL {
  const url = new URL(request.redirectUri);
  url.searchParams.set('error', 'access_denied');
  url.searchParams.set('error_description', 'The user cancelled the sign-in');
  url.searchParams.set('state', request.state);
  url.searchParams.set('iss', testProviderIssuer(config));
  return url;
}

/** An OAuth error of the token or userinfo endpoint (RFC 6749 §5.2, RFC 6750 §3.1). */
export class OAuthEndpointError extends Error {
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string, description: string) {
    super(description);
    this.status = status;
    this.error = error;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = sha256(given);
  const b = sha256(expected);
  return timingSafeEqual(a, b);
}

/** The pairwise-looking, stable `sub` of a professional at this provider. */
function subjectOf(ctx: Pick<Ctx, 'masterKey'>, idnps: string): string {
  return keyedHash(deriveKey(ctx.masterKey, 'oidc-test-provider:sub'), idnps)
    .subarray(0, 18)
    .toString('base64url');
}

/** The token endpoint: authorization_code grant, code single use, PKCE S256 checked. */
export async function exchangeTestCode(
  ctx: Ctx,
  input: {
    grantType: string | undefined;
    code: string | undefined;
    redirectUri: string | undefined;
    codeVerifier: string | undefined;
    clientId: string | undefined;
    clientSecret: string | undefined;
  },
): Promise<Record<string, unknown>> {
  const client = testProviderClient(ctx);
  if (
    input.clientId !== client.clientId ||
    input.clientSecret === undefined ||
    !sameSecret(input.clientSecret, client.clientSecret)
  ) {
    throw new OAuthEndpointError(401, 'invalid_client', 'Client authentication failed');
  }
  if (input.grantType !== 'authorization_code')
    throw new OAuthEndpointError(400, 'unsupported_grant_type', 'Only authorization_code is supported');
  if (!input.code || !input.codeVerifier || !input.redirectUri)
    throw new OAuthEndpointError(400, 'invalid_request', 'code, redirect_uri and code_verifier are required');
  const now = ctx.clock.now();
  const row = await repo.consumeTestCode(ctx.db, sha256(input.code), now);
  if (!row) throw new OAuthEndpointError(400, 'invalid_grant', 'Unknown, expired or already used code');
  if (row.client_id !== input.clientId || row.redirect_uri !== input.redirectUri)
    throw new OAuthEndpointError(
      400,
      'invalid_grant',
      'The code was issued to another client or redirect_uri',
    );
  if (sha256(input.codeVerifier).toString('base64url') !== row.code_challenge)
    throw new OAuthEndpointError(400, 'invalid_grant', 'PKCE verification failed');

  const idnps = IDNPS_RPPS_PREFIX + row.rpps;
  const sub = subjectOf(ctx, idnps);
  const issuer = testProviderIssuer(ctx.config);
  const { privateKey, kid } = await signingKey(ctx);
  const iat = Math.floor(now.getTime() / 1000);
  const idToken = await new SignJWT({
    nonce: row.nonce ?? undefined,
    acr: ACR,
    amr: ['mfa'],
    auth_time: Math.floor(new Date(row.created_at).getTime() / 1000),
    azp: client.clientId,
    SubjectNameID: idnps,
    preferred_username: idnps,
  })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject(sub)
    .setAudience(client.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TOKEN_TTL_SECONDS)
    .sign(privateKey);
  const accessToken = await new SignJWT({ scope: 'openid scope_all', idnps, client_id: client.clientId })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .setIssuer(issuer)
    .setSubject(sub)
    .setAudience(`${issuer}/userinfo`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TOKEN_TTL_SECONDS)
    .setJti(randomToken(12))
    .sign(privateKey);
  return {
    access_token: accessToken,
    token_type: 'Bearer',
    expires_in: TOKEN_TTL_SECONDS,
    id_token: idToken,
    scope: 'openid scope_all',
  };
}

/** The userinfo endpoint: PSC-like claims of the professional the access token names. */
export async function testUserInfo(
  ctx: Ctx,
  accessToken: string | undefined,
): Promise<Record<string, unknown>> {
  if (!accessToken) throw new OAuthEndpointError(401, 'invalid_token', 'A bearer access token is required');
  const issuer = testProviderIssuer(ctx.config);
  let idnps: string;
  let sub: string;
  try {
    const { payload } = await jwtVerify(accessToken, (await signingKey(ctx)).publicKey, {
      algorithms: ['ES256'],
      issuer,
      audience: `${issuer}/userinfo`,
      currentDate: ctx.clock.now(),
      requiredClaims: ['sub', 'exp'],
    });
    if (typeof payload.idnps !== 'string' || typeof payload.sub !== 'string') throw new Error('claims');
    idnps = payload.idnps;
    sub = payload.sub;
  } catch {
    throw new OAuthEndpointError(401, 'invalid_token', 'The access token is not valid');
  }
  const pro = await repo.findTestProfessional(ctx.db, idnps.slice(IDNPS_RPPS_PREFIX.length));
  return {
    sub,
    SubjectNameID: idnps,
    preferred_username: idnps,
    given_name: pro?.given ?? 'Inconnu',
    family_name: pro?.family ?? 'Professionnel',
    SubjectRole: pro ? [`${pro.profession_code}^${TRE_G15_OID}`] : [],
    SubjectRefPro: {
      codeCivilite: '',
      exercices: pro
        ? [
            {
              codeProfession: pro.profession_code,
              codeCategorieProfessionnelle: 'C',
              codeSavoirFaire: pro.specialty_code ?? '',
              activities: [],
            },
          ]
        : [],
    },
    acr: ACR,
  };
}
