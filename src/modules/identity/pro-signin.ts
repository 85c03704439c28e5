import type { FastifyInstance } from 'fastify';
import * as oidc from 'openid-client';
import type { Config } from '../../config.ts';
import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { openSecret, randomToken, sealSecret, sha256 } from '../../platform/crypto.ts';
import type { Queryable } from '../../platform/db/database.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { ProfessionalActor } from '../access/index.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { testProviderClient, testProviderIssuer } from './oidc-test-provider.ts';
import * as repo from './pro-signin.repository.ts';
import { IDNPS_RPPS_PREFIX, parseProfessionalIdentifier } from './rpps.ts';
import { assertNotThrottled, recordThrottleFailure, throttleKeys } from './throttle.ts';

/**
 * Professional sign-in (DOMAIN §1): OpenID Connect with the national provider, Pro Santé Connect,
 * or in embedded mode the local test provider (oidc-test-provider.ts). No password, ever.
 *
 * GET /pro/login keeps state, nonce and the PKCE verifier server-side (pro_login_attempts, the
 * verifier sealed) and binds them to the browser with a random HttpOnly cookie; GET /pro/callback
 * consumes that attempt once, lets openid-client check state, iss (RFC 9207), the ID token
 * (signature, iss, aud, exp, nonce) and PKCE, reads the IDNPS from userinfo, and opens a
 * professional session for an ACTIVE professional of the directory. Each outcome is audited.
 */

export const PRO_SESSION_COOKIE = 'carnet_pro_session';
/** Binds a pending sign-in to the browser that started it (login CSRF / code injection). */
export const PRO_LOGIN_COOKIE = 'carnet_pro_login';
export const PRO_LOGIN_TTL_MINUTES = 10;
/** PSC's scope for the professional's identity and practice. */
const SCOPE = 'openid scope_all';
/** PSC's assurance level for the CPS card and the e-CPS app; anything lower is refused. */
const REQUIRED_ACR = 'eidas1';
/** The ProfessionalActor.clientId of a professional using Carnet's own web pages. */
export const WEB_CLIENT_ID = 'web';

export function proRedirectUri(config: Pick<Config, 'baseUrl'>): string {
  return `${config.baseUrl}/pro/callback`;
}

function settingsOf(ctx: Ctx): NonNullable<Config['proOidc']> {
  const settings = ctx.config.proOidc;
  if (!settings) throw new AppError('not_found', 'Professional sign-in is not configured on this server');
  return settings;
}

/** The app, to reach the local test provider in-process (no network, works offline and in tests). */
export type LocalProvider = Pick<FastifyInstance, 'inject'>;

function injectFetch(app: LocalProvider): oidc.CustomFetch {
  return async (url, options) => {
    const target = new URL(url);
    const body = options.body;
    const payload =
      typeof body === 'string' ? body : body instanceof URLSearchParams ? body.toString() : undefined;
    const res = await app.inject({
      method: options.method as 'GET',
      url: target.pathname + target.search,
      headers: options.headers,
      ...(payload === undefined ? {} : { payload }),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    }
    const empty = res.statusCode === 204 || res.statusCode === 304;
    return new Response(empty ? null : new Uint8Array(res.rawPayload), { status: res.statusCode, headers });
  };
}

interface Discovered {
  metadata: oidc.ServerMetadata;
  at: number;
  jwks?: oidc.ExportedJWKSCache;
}
/** Discovery results per configuration (one per app), refreshed hourly. */
const discovered = new WeakMap<Config, Discovered>();
const DISCOVERY_TTL_MS = 3600_000;

/** openid-client's configuration for this request: cached discovery, the request's clock. */
async function relyingParty(
  ctx: Ctx,
  local: LocalProvider,
): Promise<{ conf: oidc.Configuration; cache: Discovered }> {
  const settings = settingsOf(ctx);
  const isLocal = settings.testProvider && settings.issuer === testProviderIssuer(ctx.config);
  // Plain http only for the local test provider or in embedded mode (never in the production footprint).
  const insecure = isLocal || ctx.config.database.kind === 'pglite';
  const fetcher = isLocal ? injectFetch(local) : undefined;
  const secret = isLocal ? testProviderClient(ctx).clientSecret : (settings.clientSecret ?? '');
  let cache = discovered.get(ctx.config);
  // Wall-clock age of a cache entry (not business time).
  if (!cache || Date.now() - cache.at > DISCOVERY_TTL_MS) {
    try {
      const found = await oidc.discovery(new URL(settings.issuer), settings.clientId, undefined, undefined, {
        execute: insecure ? [oidc.allowInsecureRequests] : [],
        timeout: 10,
        ...(fetcher ? { [oidc.customFetch]: fetcher } : {}),
      });
      cache = { metadata: found.serverMetadata(), at: Date.now() };
    } catch (err) {
      ctx.log.error({ err, issuer: settings.issuer }, 'OpenID Connect discovery failed');
      throw new AppError('unavailable', 'The identity provider cannot be reached; try again later');
    }
    discovered.set(ctx.config, cache);
  }
  const conf = new oidc.Configuration(
    cache.metadata,
    settings.clientId,
    {
      client_secret: secret,
      // Token lifetimes are checked against the service clock (tests move it).
      [oidc.clockSkew]: Math.round((ctx.clock.now().getTime() - Date.now()) / 1000),
    },
    oidc.ClientSecretBasic(secret),
  );
  conf.timeout = 10;
  if (fetcher) conf[oidc.customFetch] = fetcher;
  if (insecure) oidc.allowInsecureRequests(conf);
  if (cache.jwks) oidc.setJwksCache(conf, cache.jwks);
  return { conf, cache };
}

/** Starts a sign-in: the provider URL to send the browser to, and the cookie binding this browser. */
export async function startProLogin(
  ctx: Ctx,
  local: LocalProvider,
): Promise<{ redirectTo: URL; binding: string; expiresAt: Date }> {
  const { conf } = await relyingParty(ctx, local);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const binding = randomToken(32);
  const id = uuidv7();
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + PRO_LOGIN_TTL_MINUTES * 60_000);
  await repo.deleteStaleLoginAttempts(ctx.db, now);
  await repo.insertLoginAttempt(ctx.db, {
    id,
    binding_hash: sha256(binding),
    state,
    nonce,
    sealed_verifier: sealSecret(ctx.masterKey, 'pro-login-pkce', verifier, id),
    created_at: now,
    expires_at: expiresAt,
  });
  const redirectTo = oidc.buildAuthorizationUrl(conf, {
    redirect_uri: proRedirectUri(ctx.config),
    scope: SCOPE,
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    acr_values: REQUIRED_ACR,
  });
  return { redirectTo, binding, expiresAt };
}

export interface SignedInProfessional {
  id: string;
  rpps: string;
  idnps: string;
  given: string;
  family: string;
  professionCode: string;
  specialtyCode: string | null;
  organizationId: string | null;
}

/** Where and how a professional session was opened. */
export interface ProSessionMeta {
  userAgent?: string | undefined;
  ip?: string | undefined;
}

/**
 * Completes a sign-in from the provider's redirect. `query` is the callback's query string. Any
 * failure is audited, counts against the caller's IP (throttle.ts IP_RULE: 429 once locked) and is
 * refused with 403 (`forbidden`); an unreachable provider is 503 (not counted).
 */
export async function finishProLogin(
  ctx: Ctx,
  local: LocalProvider,
  input: { binding: string | undefined; query: string; meta: ProSessionMeta },
): Promise<{ token: string; expiresAt: Date; professional: SignedInProfessional }> {
  // Per IP: nobody is named until the provider's answer is verified.
  const keys = throttleKeys(ctx, { ip: input.meta.ip });
  await assertNotThrottled(ctx, keys);
  const now = ctx.clock.now();
  const deny = async (reason: string, who?: DeniedWho): Promise<never> => {
    await recordThrottleFailure(ctx, keys);
    await auditSignIn(ctx, ctx.rootDb, { outcome: 'denied', reason, who, sessionId: null }).catch(
      (err: unknown) => ctx.log.error({ err }, 'could not record a refused professional sign-in'),
    );
    throw new AppError('forbidden', reason);
  };
  if (!input.binding) return deny('No sign-in was started in this browser (or it expired)');
  const attempt = await repo.consumeLoginAttempt(ctx.rootDb, sha256(input.binding), now);
  if (!attempt) return deny('No sign-in was started in this browser (or it expired, or was already used)');
  const verifier = openSecret(ctx.masterKey, 'pro-login-pkce', attempt.sealed_verifier, attempt.id);

  const { conf, cache } = await relyingParty(ctx, local);
  const callbackUrl = new URL(proRedirectUri(ctx.config));
  callbackUrl.search = input.query;
  let claims: oidc.IDToken;
  let userinfo: oidc.UserInfoResponse;
  try {
    const tokens = await oidc.authorizationCodeGrant(conf, callbackUrl, {
      expectedState: attempt.state,
      expectedNonce: attempt.nonce,
      pkceCodeVerifier: verifier,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims) throw new AppError('forbidden', 'The provider returned no ID token');
    claims = idClaims;
    userinfo = await oidc.fetchUserInfo(conf, tokens.access_token, claims.sub);
    const jwks = oidc.getJwksCache(conf);
    if (jwks) cache.jwks = jwks;
  } catch (err) {
    if (err instanceof AppError) return deny(err.message);
    if (
      err instanceof oidc.ResponseBodyError ||
      err instanceof oidc.AuthorizationResponseError ||
      err instanceof oidc.WWWAuthenticateChallengeError ||
      (err instanceof oidc.ClientError &&
        err.code !== undefined &&
        err.code !== 'OAUTH_TIMEOUT' &&
        err.code !== 'OAUTH_ABORT')
    ) {
      const cause =
        err instanceof oidc.ResponseBodyError
          ? ` (${err.error}${err.error_description ? `: ${err.error_description}` : ''})`
          : err.cause instanceof Error
            ? `: ${err.cause.message}`
            : '';
      return deny(`The identity provider's answer was refused: ${err.message}${cause}`);
    }
    ctx.log.error({ err }, 'professional sign-in: provider exchange failed');
    throw new AppError('unavailable', 'The identity provider cannot be reached; try again later');
  }

  if (claims.acr !== REQUIRED_ACR)
    return deny(`Insufficient assurance level (acr ${JSON.stringify(claims.acr) ?? 'absent'})`);
  const rawId = [userinfo.SubjectNameID, claims.SubjectNameID, claims.preferred_username].find(
    (v): v is string => typeof v === 'string' && v !== '',
  );
  if (!rawId) return deny('The provider gave no professional identifier (SubjectNameID)');
  const parsed = parseProfessionalIdentifier(rawId);
  if (!parsed.ok || rawId.length !== 12 || !rawId.startsWith(IDNPS_RPPS_PREFIX))
    return deny('The professional identifier is not an RPPS-based IDNPS', { idnps: rawId });
  const idnps = rawId;
  const row = await repo.findProfessionalForSignIn(ctx.db, parsed.rpps);
  if (!row) return deny('This professional is not known to Carnet', { idnps });
  if (!row.active) return deny('This professional is deactivated', { idnps, professional: row });
  const org = await repo.firstClientOrganization(ctx.db, row.id);
  const organizationId = org?.organization_id ?? null;

  const token = randomToken(32);
  const expiresAt = new Date(now.getTime() + ctx.config.sessionTtlHours * 3600_000);
  const sessionId = uuidv7();
  await ctx.rootDb.transaction().execute(async (trx) => {
    await repo.insertProSession(trx, {
      id: sessionId,
      professional_id: row.id,
      organization_id: organizationId,
      token_hash: sha256(token),
      issuer: conf.serverMetadata().issuer,
      subject: claims.sub,
      acr: typeof claims.acr === 'string' ? claims.acr : null,
      user_agent: input.meta.userAgent?.slice(0, 300) ?? null,
      ip: input.meta.ip ?? null,
      created_at: now,
      expires_at: expiresAt,
    });
    await auditSignIn(ctx, trx, {
      outcome: 'success',
      reason: null,
      who: { idnps, professional: row, organizationId },
      sessionId,
    });
  });
  return {
    token,
    expiresAt,
    professional: {
      id: row.id,
      rpps: row.rpps,
      idnps,
      given: row.given,
      family: row.family,
      professionCode: row.profession_code,
      specialtyCode: row.specialty_code,
      organizationId,
    },
  };
}

interface DeniedWho {
  idnps: string;
  professional?: { rpps: string; given: string; family: string; profession_code: string };
  organizationId?: string | null;
}

async function auditSignIn(
  ctx: Ctx,
  db: Queryable,
  event: {
    outcome: 'success' | 'denied';
    reason: string | null;
    who: DeniedWho | undefined;
    sessionId: string | null;
    action?: string;
  },
): Promise<void> {
  const pro = event.who?.professional;
  await recordAuditEvent(db, {
    patientId: null,
    recordedAt: ctx.clock.now(),
    actor: pro
      ? {
          kind: 'professional',
          id: pro.rpps,
          display: `${pro.given} ${pro.family}`,
          organizationId: event.who?.organizationId ?? null,
          clientId: WEB_CLIENT_ID,
          professionCode: pro.profession_code,
        }
      : {
          kind: 'anonymous',
          id: null,
          display: 'Unauthenticated caller',
          organizationId: null,
          clientId: null,
        },
    action: event.action ?? 'authenticate',
    entity: { type: 'ProfessionalSession', id: event.sessionId },
    outcome: event.outcome,
    basis: null,
    reason: event.reason,
    requestId: ctx.requestId ?? null,
    details: {
      credential: 'oidc',
      issuer: ctx.config.proOidc?.issuer ?? null,
      ...(event.who ? { idnps: event.who.idnps } : {}),
    },
  });
}

/** The signed-in professional behind a session cookie. */
export interface ProSessionView {
  sessionId: string;
  professional: Omit<SignedInProfessional, 'organizationId'>;
  organization: { id: string; name: string; kind: string } | null;
  expiresAt: Date;
  acr: string | null;
}

/** Resolves a professional session cookie; 401 when unknown, expired, revoked or the professional deactivated. */
export async function resolveProSession(ctx: Ctx, token: string): Promise<ProSessionView> {
  const s = await repo.findLiveProSession(ctx.db, sha256(token), ctx.clock.now());
  if (!s) throw new AppError('unauthenticated', 'Please sign in with Pro Santé Connect');
  return {
    sessionId: s.id,
    professional: {
      id: s.professional_id,
      rpps: s.rpps,
      idnps: IDNPS_RPPS_PREFIX + s.rpps,
      given: s.given,
      family: s.family,
      professionCode: s.profession_code,
      specialtyCode: s.specialty_code,
    },
    organization:
      s.organization_id && s.organization_name !== null && s.organization_kind !== null
        ? { id: s.organization_id, name: s.organization_name, kind: s.organization_kind }
        : null,
    expiresAt: new Date(s.expires_at),
    acr: s.acr,
  };
}

/**
 * The ProfessionalActor of a web session, for READS on the FHIR API (the caller only uses it on
 * GET). A browser request from another site is refused (Sec-Fetch-Site), so a foreign page cannot
 * make the professional's browser read a record; a professional without an organisation must use
 * their software's bearer token.
 */
export async function professionalFromProSession(
  ctx: Ctx,
  token: string,
  fetchSite: string | string[] | undefined,
): Promise<ProfessionalActor> {
  if (fetchSite === 'cross-site' || fetchSite === 'same-site')
    throw new AppError(
      'unauthenticated',
      'A professional web session is only accepted from Carnet’s own pages',
    );
  const s = await resolveProSession(ctx, token);
  if (!s.organization)
    throw new AppError(
      'unauthenticated',
      'No organisation is known for this professional: use a bearer token',
    );
  return {
    kind: 'professional',
    professionalId: s.professional.id,
    rpps: s.professional.rpps,
    professionCode: s.professional.professionCode,
    specialtyCode: s.professional.specialtyCode,
    display: `${s.professional.given} ${s.professional.family}`,
    organizationId: s.organization.id,
    clientId: WEB_CLIENT_ID,
    emergencyRegulator: s.organization.kind === 'samu',
  };
}

/** Signs out: revokes the session (if live) and audits it. */
export async function endProSession(ctx: Ctx, token: string): Promise<void> {
  await ctx.rootDb.transaction().execute(async (trx) => {
    const revoked = await repo.revokeProSession(trx, sha256(token), ctx.clock.now());
    if (!revoked) return;
    const pro = await repo.findProfessionalByIdForAudit(trx, revoked.professional_id);
    await auditSignIn(ctx, trx, {
      outcome: 'success',
      reason: null,
      action: 'sign-out',
      who: pro
        ? { idnps: IDNPS_RPPS_PREFIX + pro.rpps, professional: pro, organizationId: revoked.organization_id }
        : undefined,
      sessionId: revoked.id,
    });
  });
}
