import type { ColumnType } from 'kysely';

/** Tables of children, legal representatives and caregivers (invitations) (migration 2026-11-22T0010-family). */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export type InvitationRole = 'legal_representative' | 'caregiver';
export type InvitationStatus = 'pending' | 'accepted' | 'refused' | 'expired' | 'revoked';

/** family — an invitation to represent or help a person, kept in that person's record. */
export interface FamilyInvitationsTable {
  /** The person concerned: the child, or the person helped. */
  patient_id: string;
  id: string;
  role: InvitationRole;
  /** Patient id of whoever invited (a legal representative, or the person themself). */
  invited_by: string;
  invitee_id: string;
  scopes: ColumnType<string[], string[] | undefined, string[]>;
  /** When the representation ends (majority for a legal representative; the chosen date for a caregiver). */
  ends_at: NullableTimestamp;
  status: InvitationStatus;
  expires_at: Timestamp;
  created_at: Timestamp;
  responded_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  /** 'person' or 'helper': which side ended it. */
  revoked_by: ColumnType<string | null, string | null | undefined, string | null>;
  /** The representation rule created at acceptance (access_rules.id in the same record). */
  rule_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** family — people the majority job has processed (invited to activate at 18), once each. */
export interface FamilyMajorityTable {
  patient_id: string;
  processed_at: Timestamp;
  invited: boolean;
}

export interface FamilyTables {
  family_invitations: FamilyInvitationsTable;
  family_majority: FamilyMajorityTable;
}
