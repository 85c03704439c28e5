/** Vaccinations (DOMAIN §6). Public interface of the module. */
export type { Vaccination, VaccinationInput, VaccinationChanges } from './vaccination.ts';
export type { DueVaccination, Calendar } from './calendar.ts';
export { loadCalendar, dueVaccinations, productCatalogue } from './calendar.ts';
export type { VaccinationChange, RecordOptions } from './vaccination.service.ts';
export {
  recordVaccination,
  importImmunizations,
  listVaccinations,
  getVaccination,
  updateVaccination,
  deleteVaccination,
  confirmVaccination,
  vaccinationHistory,
  listDueVaccinations,
} from './vaccination.service.ts';
