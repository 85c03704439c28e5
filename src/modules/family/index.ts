/**
 * Family: children's spaces managed by their legal representatives, the second representative,
 * autonomy at 18, caregivers (invitations, scope, end date) and switching between profiles
 * (DOMAIN §2).
 */
export type { ProfileView } from './profiles.service.ts';
export { listProfiles } from './profiles.service.ts';
export type { InvitationView, Invitee } from './invitations.service.ts';
export {
  inviteLegalRepresentative,
  inviteCaregiver,
  listInvitations,
  acceptInvitation,
  refuseInvitation,
  revokeCaregiver,
} from './invitations.service.ts';
export { caregiverAttestation } from './attestation.ts';
export type { MajorityReport } from './majority.ts';
export { processMajorities, registerFamilyJobs } from './majority.ts';
export {
  CAREGIVER_SCOPES,
  MAX_CAREGIVERS_PER_PERSON,
  MAX_PEOPLE_PER_CAREGIVER,
  INVITATION_DAYS,
} from './family.ts';
