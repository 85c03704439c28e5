/**
 * Professional sign-in through OpenID Connect (Pro Santé Connect; a local test provider in embedded mode).
 * Public interface of this part of the module (re-exported by index.ts).
 */
export {
  PRO_SESSION_COOKIE,
  WEB_CLIENT_ID,
  professionalFromProSession,
  resolveProSession,
  type ProSessionView,
} from './pro-signin.ts';
export { testProviderIssuer, testProviderClient, TEST_PROVIDER_PATH } from './oidc-test-provider.ts';
