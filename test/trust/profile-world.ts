import { importProfileEntries } from '../../src/modules/profile/index.ts';
import type { ApiPatient } from '../api/support.ts';
import type { TestRuntime } from '../harness.ts';
import { secretTitle } from './support.ts';

/** A's medical profile in the bypass world: one entry of A's own, one imported (locked). */

const seeded = new WeakMap<object, { own: string; imported: string }>();

/** Adds A's profile entries; returns the strings no one else may receive. */
export async function seedProfileOfA(rt: TestRuntime, a: ApiPatient): Promise<string[]> {
  const allergy = secretTitle('SECRET-A allergy');
  const disease = secretTitle('SECRET-A disease');
  const res = await rt.app.inject({
    method: 'POST',
    url: '/api/profile/allergies/entries',
    headers: { cookie: a.cookie },
    payload: { fields: { substance: { text: allergy } } },
  });
  if (res.statusCode !== 201) throw new Error(`seeding A's profile: ${res.body}`);
  const own = res.json<{ id: string }>().id;
  const report = await importProfileEntries(rt.ctx, { kind: 'system', display: 'Import' }, a.patient.id, [
    {
      section: 'diseases',
      fields: { condition: { text: disease } },
      externalId: 'bypass-1',
      source: 'bypass',
    },
  ]);
  const imported = report.created[0]?.id;
  if (!imported) throw new Error("seeding A's imported entry failed");
  seeded.set(rt, { own, imported });
  return [own, imported, allergy, disease];
}

/** A's profile entry ids (after seedProfileOfA). */
export function profileIdsOf(rt: TestRuntime): { own: string; imported: string } {
  const ids = seeded.get(rt);
  if (!ids) throw new Error("A's profile was not seeded");
  return ids;
}
