/** Tables of population import (import runs and their reports) (migration 2026-11-22T0011-population). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled in by the feature
export interface PopulationTables {}
