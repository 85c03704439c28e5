/** Tables of life events (opposition, closure, suspension, erasure) (migration 2026-11-22T0009-life-events). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the feature
export interface LifecycleTables {}
