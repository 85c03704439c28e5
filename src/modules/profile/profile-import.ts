import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import { guarded, requireAccess, type Actor } from '../access/index.ts';
import * as repo from './profile.repository.ts';
import { place } from './profile.service.ts';
import { isSection, validateFields } from './sections.ts';

/** Imported entries (e.g. a FHIR bundle): author kind 'import', idempotent by (person, source, external id). */

export interface ImportedEntry {
  section: string;
  fields: unknown;
  /** The entry's id in the source (e.g. the FHIR resource's fullUrl or id). */
  externalId: string;
  /** Where it comes from (e.g. 'synthea', a bundle's identifier system). */
  source: string;
}

export interface ImportReport {
  created: Array<{ index: number; id: string; externalId: string }>;
  /** Already imported before (same source and external id): left as they are. */
  unchanged: Array<{ index: number; id: string; externalId: string }>;
  skipped: Array<{ index: number; externalId: string; reason: string; field?: string }>;
}

/**
 * Imports entries into a person's profile in one transaction, through the gate (create on
 * 'Profile'). Importing the same entries twice changes nothing; invalid ones are skipped with the
 * reason and the faulty field (`entries[i].fields.x`).
 * @example await importProfileEntries(ctx, actor, patientId, [{ section: 'allergies', fields: { substance: { text: 'Peanut' } }, externalId: 'urn:uuid:…', source: 'synthea' }]);
 */
export async function importProfileEntries(
  ctx: Ctx,
  actor: Actor,
  patientId: string,
  entries: readonly ImportedEntry[],
): Promise<ImportReport> {
  return guarded(ctx, async (tx) => {
    const grant = await requireAccess(tx, actor, {
      patientId,
      action: 'create',
      entity: { type: 'Profile' },
      details: { import: true, count: entries.length },
    });
    const report: ImportReport = { created: [], unchanged: [], skipped: [] };
    const author = { kind: 'import' as const, id: null, display: actor.display };
    for (const [index, e] of entries.entries()) {
      const skip = (reason: string, field?: string) =>
        report.skipped.push({ index, externalId: e.externalId, reason, ...(field ? { field } : {}) });
      if (!e.source || !e.externalId) {
        skip('source and externalId are required', 'source');
        continue;
      }
      if (!isSection(e.section)) {
        skip(`unknown section ${e.section}`, `entries[${index}].section`);
        continue;
      }
      const known = await repo.findByExternalId(tx.db, grant, e.source, e.externalId);
      if (known) {
        report.unchanged.push({ index, id: known.id, externalId: e.externalId });
        continue;
      }
      let fields: Record<string, unknown>;
      try {
        fields = validateFields(e.section, e.fields, `entries[${index}].fields`);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        skip(err.message, err.field);
        continue;
      }
      try {
        const entry = await place(tx, grant, actor, {
          section: e.section,
          fields,
          author,
          source: e.source,
          externalId: e.externalId,
        });
        report.created.push({ index, id: entry.id, externalId: e.externalId });
      } catch (err) {
        // Business refusals (advance directives for a minor, a locked value) skip the entry only;
        // place() checks them before writing anything.
        if (!(err instanceof AppError) || err.code === 'internal') throw err;
        skip(err.message, err.field);
      }
    }
    return report;
  });
}
