/**
 * Accounts: the life of a person's space — the insurer's population file, notices with provisional
 * codes, opposition, creation after 6 weeks, closure, archive, erasure, re-opening, suspension, and
 * the operator commands (DOMAIN §2).
 */
export * from './population-exports.ts';
export * from './lifecycle-exports.ts';
