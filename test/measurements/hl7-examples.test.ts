import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestRuntime, seedPatient, seedProfessional, tokenFor, type TestRuntime } from '../harness.ts';
import { addAccessRule } from '../../src/modules/access/index.ts';
import type { Patient } from '../../src/modules/identity/index.ts';

/**
 * The HL7 FHIR R4 Observation examples (fixtures/hl7-r4-examples, CC0) posted by a professional:
 * each is imported or refused with a precise reason. They name subjects such as `Patient/example`;
 * the test rewrites `subject` to the INS identifier of a seeded patient (Carnet identifies patients
 * by INS only) — everything else is posted as published.
 */

const DIR = '/work/shared/fixtures/hl7-r4-examples/Observation';
const files = (() => {
  try {
    return readdirSync(DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
})();

/** Imported examples, and for the others the FHIRPath the refusal points at. */
const EXPECTED: Record<string, string> = {
  'Observation-body-height.json': 'imported',
  'Observation-body-temperature.json': 'imported',
  'Observation-head-circumference.json': 'imported',
  'Observation-bmi-using-related.json': 'imported',
  'Observation-example.json': 'imported',
  'Observation-blood-pressure-dar.json': 'Observation.component[1].valueQuantity',
  'Observation-mbp.json': 'Observation.code',
  'Observation-10minute-apgar-score.json': 'Observation.code',
  'Observation-20minute-apgar-score.json': 'Observation.code',
  'Observation-5minute-apgar-score.json': 'Observation.code',
  'Observation-abdo-tender.json': 'Observation.code',
  'Observation-bgpanel.json': 'Observation.code',
  'Observation-bloodgroup.json': 'Observation.code',
  'Observation-date-lastmp.json': 'Observation.code',
  'Observation-ekg.json': 'Observation.code',
  'Observation-example-TPMT-haplotype-one.json': 'Observation.status',
  'Observation-example-diplotype1.json': 'Observation.code',
  'Observation-example-genetics-2.json': 'Observation.code',
  'Observation-example-genetics-4.json': 'Observation.code',
  'Observation-example-genetics-brcapat.json': 'Observation.code',
  'Observation-example-haplotype2.json': 'Observation.status',
  'Observation-f001.json': 'Observation.category',
  'Observation-f003.json': 'Observation.code',
  'Observation-f005.json': 'Observation.code',
  'Observation-f203.json': 'Observation.code',
  'Observation-f205.json': 'Observation.code',
  'Observation-gcs-qa.json': 'Observation.code',
  'Observation-herd1.json': 'Observation.code',
  'Observation-rhstatus.json': 'Observation.code',
  'Observation-secondsmoke.json': 'Observation.code',
  'Observation-unsat.json': 'Observation.status',
  'Observation-vomiting.json': 'Observation.code',
};

let rt: TestRuntime;
let patient: Patient;
let token: string;

beforeAll(async () => {
  rt = await createTestRuntime({ clock: new Date('2026-11-20T10:00:00Z') });
  patient = await seedPatient(rt.ctx);
  const pro = await seedProfessional(rt.ctx);
  token = await tokenFor(rt.app, pro);
  const owner = { kind: 'patient' as const, patientId: patient.id, display: 'Camille', sessionId: 's' };
  await addAccessRule(rt.ctx, owner, patient.id, { kind: 'role', role: 'gp', rpps: pro.rpps });
});
afterAll(async () => {
  await rt?.close();
});

describe.skipIf(files.length === 0)('HL7 R4 Observation examples', () => {
  it('knows every example', () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(files)('%s is imported or refused with a precise reason', async (file) => {
    const resource = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Record<string, unknown>;
    resource.subject = { identifier: { system: `urn:oid:${patient.ins.oid}`, value: patient.ins.matricule } };
    const res = await rt.app.inject({
      method: 'POST',
      url: '/fhir/R4/Observation',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      payload: JSON.stringify(resource),
    });
    const expected = EXPECTED[file];
    if (expected === 'imported') {
      expect(res.statusCode, res.body).toBe(201);
    } else {
      expect(res.statusCode, res.body).toBe(400);
      const issue = res.json<{ issue: Array<{ expression: string[]; diagnostics: string }> }>().issue[0];
      expect(issue?.expression, issue?.diagnostics).toEqual([expected]);
    }
  });
});
