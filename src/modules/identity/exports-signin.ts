/**
 * Activation, second factors, throttled sign-in, sessions and devices.
 * Public interface of this part of the module (re-exported by index.ts).
 */
export {};
