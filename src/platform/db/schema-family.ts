/** Tables of children, legal representatives and caregivers (invitations) (migration 2026-11-22T0010-family). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the feature
export interface FamilyTables {}
