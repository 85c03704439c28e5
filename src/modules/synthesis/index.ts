/** Synthesis of the medical profile, measurements and vaccinations (DOMAIN §6, §4.7). Public interface of the module. */
export type { SynthesisData, SynthesisSection, SynthesisPdfRequest } from './synthesis.service.ts';
/**
 * @example const data = await collectSynthesis(ctx, actor, patientId); // every section the actor may read
 * @example const { document } = await createSynthesisDocument(ctx, actor, patientId, { sections: ['allergies'] });
 */
export {
  SYNTHESIS_SECTIONS,
  isSynthesisSection,
  collectSynthesis,
  createSynthesisDocument,
  synthesisParagraphs,
} from './synthesis.service.ts';
export { SECTION_LABELS_FR } from './synthesis.ts';
