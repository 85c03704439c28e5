/**
 * Activation, second factors, throttled sign-in, sessions and devices.
 * Public interface of this part of the module (re-exported by index.ts).
 */
export type { SignInResult } from './identity.service.ts';
export {
  resolveEnrolment,
  finishEnrolment,
  startActivation,
  ACTIVATION_REFUSED,
  ENROLMENT_MINUTES,
  type Enrolment,
} from './enrolment.ts';
export { completeSecondFactor } from './second-factor-signin.ts';
export { type OutgoingMail, type SecondFactorKind, EMAIL_CODE_MINUTES } from './second-factor.ts';
export { checkPasswordRules, PASSWORD_MIN } from './security-password.ts';
export { revokeOwnSessions, type SecurityActor } from './security.ts';
export {
  ACCOUNT_RULE,
  IP_RULE,
  ThrottledError,
  purgeStaleThrottles,
  throttleKeys,
  assertNotThrottled,
  recordThrottleFailure,
  recordThrottleSuccess,
  type ThrottleRule,
  type ThrottleKey,
} from './throttle.ts';
export { hotp, totpAt, base32Decode, base32Encode } from './totp.ts';
