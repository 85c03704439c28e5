/** Measurements (DOMAIN §6). Public interface of the module. */
export type {
  AuthorKind,
  Measurement,
  NewMeasurement,
  RawValue,
  CreateResult,
  ImportItem,
  ListQuery,
  Target,
  SeriesBucket,
} from './measurements.service.ts';
export {
  createMeasurement,
  createMeasurements,
  importMeasurements,
  listMeasurements,
  getMeasurement,
  readMeasurementById,
  updateMeasurement,
  deleteMeasurement,
  measurementSeries,
  getTargets,
  setTargets,
  growthCurve,
  rawValues,
  validateMeasurement,
} from './measurements.service.ts';
export type { MeasurementType } from './types.ts';
export { measurementTypes, typeById, typeByLoinc, partsOf } from './types.ts';
export { growthScore, zScore, normalCdf, GROWTH_TYPES } from './growth.ts';
