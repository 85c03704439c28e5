/** Profile (DOMAIN §6). Public interface of the module. */
export type { ProfileAuthor, ProfileChange, ProfileEntry, ProfileSection, SectionState } from './profile.ts';
export type { Section, SectionKind } from './sections.ts';
export { SECTIONS, SECTION_KIND, SECTION_SCHEMAS, isSection, validateFields } from './sections.ts';
/**
 * @example const sections = await readProfile(ctx, actor, patientId); // all sections, through the gate
 * @example await addEntry(ctx, actor, patientId, 'blood-group', { abo: 'O', rhesus: 'negative' });
 */
export {
  readProfile,
  addEntry,
  updateEntry,
  deleteEntry,
  entryHistory,
  setNotConcerned,
} from './profile.service.ts';
/** @example const report = await importProfileEntries(ctx, actor, patientId, [{ section: 'allergies', fields, externalId, source: 'synthea' }]); */
export { importProfileEntries, type ImportedEntry, type ImportReport } from './profile-import.ts';
