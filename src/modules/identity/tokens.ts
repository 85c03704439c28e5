import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../../errors.ts';
import { randomToken } from '../../platform/crypto.ts';

/**
 * Access tokens for professional software: short-lived HS256 JWTs (RFC 7519) issued by
 * POST /oauth/token with client credentials (RFC 6749 §4.4). The token names the client row and
 * the professional's RPPS; the client and professional are re-checked on every request, so
 * deactivating either takes effect immediately despite a live token.
 */

export const TOKEN_ISSUER = 'carnet';
export const TOKEN_AUDIENCE = 'carnet-fhir';

export interface TokenClaims {
  /** oauth_clients.id */
  cid: string;
  rpps: string;
  scope: string;
}

export async function signAccessToken(
  key: Uint8Array,
  clientId: string,
  claims: TokenClaims,
  now: Date,
  ttlSeconds: number,
): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setSubject(clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(randomToken(12))
    .sign(key);
}

/** Throws 401 for anything but a valid, unexpired token of ours. `alg: none` and other algorithms are refused. */
export async function verifyAccessToken(
  key: Uint8Array,
  token: string,
  now: Date,
): Promise<TokenClaims & { sub: string }> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      currentDate: now,
      requiredClaims: ['exp', 'iat', 'sub'],
    });
    const { cid, rpps, scope, sub } = payload as Record<string, unknown>;
    if (
      typeof cid !== 'string' ||
      typeof rpps !== 'string' ||
      typeof scope !== 'string' ||
      typeof sub !== 'string'
    ) {
      throw new AppError('unauthenticated', 'The access token is missing required claims');
    }
    return { cid, rpps, scope, sub };
  } catch (err) {
    if (err instanceof AppError) throw err;
    const reason =
      err instanceof joseErrors.JWTExpired ? 'The access token has expired' : 'The access token is not valid';
    throw new AppError('unauthenticated', reason);
  }
}
