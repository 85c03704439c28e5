/** Tables of professional sign-in through OpenID Connect (professional sessions) (migration 2026-11-22T0008-professional-sign-in). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the feature
export interface ProTables {}
