import { sql } from 'kysely';
import { grantRepresentation } from '../../src/modules/access/index.ts';
import { majorityAt, registerPatient, type Patient } from '../../src/modules/identity/index.ts';
import { makeMatricule, NIR_OID, type TestRuntime } from '../harness.ts';
import { signedInPatient, type ApiPatient } from '../api/support.ts';

/** Helpers of the family suites: active spaces, children declared at birth, JSON requests. */

/** A signed-in person whose space is active (activated, open). */
export async function activePerson(rt: TestRuntime, given = 'Camille'): Promise<ApiPatient> {
  const p = await signedInPatient(rt);
  await sql`update patients set activated_at = ${rt.clock.now()}, given = ${given} where id = ${p.patient.id}`.execute(
    rt.ctx.rootDb,
  );
  return { ...p, patient: { ...p.patient, given } };
}

/** A child as the insurer's file brings it: open space, origin 'birth', the parent as legal representative until majority. */
export async function childOf(
  rt: TestRuntime,
  parent: Patient,
  birthDate: string,
  given = 'Léo',
): Promise<Patient> {
  const { patient } = await registerPatient(rt.ctx, {
    matricule: makeMatricule(1),
    oid: NIR_OID,
    given,
    family: parent.family,
    birthDate,
    sex: 'M',
  });
  await sql`update patients set origin = 'birth', declared_by = ${parent.id} where id = ${patient.id}`.execute(
    rt.ctx.rootDb,
  );
  await grantRepresentation(rt.ctx, { kind: 'system', display: 'Import' }, patient.id, {
    personId: parent.id,
    role: 'legal_representative',
    until: majorityAt(birthDate),
  });
  return patient;
}

export function as(p: ApiPatient, profile?: string): Record<string, string> {
  return profile ? { cookie: p.cookie, 'x-carnet-profile': profile } : { cookie: p.cookie };
}

export { pdfHasText } from '../pdf.ts';
