import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.ts';
import { masterKeyFrom } from '../../platform/crypto.ts';
import { checkAuthorizeRequest, testProviderClient, testProviderJwks } from './oidc-test-provider.ts';

const config = loadConfig({ CARNET_DATA_DIR: '/tmp/carnet-oidc-unit' });
const keyOf = () => masterKeyFrom(randomBytes(32));

describe('the local test provider', () => {
  it('derives its signing key and client secret from the master key (stable across restarts)', async () => {
    const master = keyOf();
    const again = masterKeyFrom(Buffer.from(master.key));
    const [a, b, other] = await Promise.all([
      testProviderJwks({ masterKey: master }),
      testProviderJwks({ masterKey: again }),
      testProviderJwks({ masterKey: keyOf() }),
    ]);
    expect(a).toEqual(b);
    expect(a.keys[0]?.kid).not.toBe(other.keys[0]?.kid);
    expect(a.keys[0]).not.toHaveProperty('d');
    expect(testProviderClient({ config, masterKey: master }).clientSecret).toBe(
      testProviderClient({ config, masterKey: again }).clientSecret,
    );
  });

  it('accepts only its client, its redirect URI, code + openid, PKCE S256', () => {
    const ctx = { config, masterKey: keyOf() };
    const good = {
      client_id: 'carnet',
      redirect_uri: `${config.baseUrl}/pro/callback`,
      response_type: 'code',
      scope: 'openid scope_all',
      state: 's',
      nonce: 'n',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    };
    expect(checkAuthorizeRequest(ctx, good)).toMatchObject({ clientId: 'carnet', state: 's', nonce: 'n' });
    for (const [field, value] of [
      ['client_id', 'other'],
      ['redirect_uri', 'https://evil.example/pro/callback'],
      ['response_type', 'token'],
      ['scope', 'profile'],
      ['code_challenge_method', 'plain'],
      ['code_challenge', 'short'],
      ['state', ''],
      ['nonce', undefined],
    ] as const) {
      expect(() => checkAuthorizeRequest(ctx, { ...good, [field]: value }), field).toThrow();
    }
  });
});
