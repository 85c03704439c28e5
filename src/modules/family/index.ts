/**
 * Family: children's spaces managed by their legal representatives, the second representative,
 * autonomy at 18, caregivers (invitations, scope, end date) and switching between profiles
 * (DOMAIN §2).
 */
export {};
