import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as harness from '../../test/harness.ts';
import { addAccessRule, type PatientActor } from '../modules/access/index.ts';

let rt: harness.TestRuntime;
let owner: PatientActor;
let ins: string;
let gp: Awaited<ReturnType<typeof harness.seedProfessional>>;
let careTeam: Awaited<ReturnType<typeof harness.seedProfessional>>;

beforeAll(async () => {
  rt = await harness.createTestRuntime();
  const patient = await harness.seedPatient(rt.ctx);
  owner = { kind: 'patient', patientId: patient.id, display: 'Camille', sessionId: 's' };
  ins = `urn:oid:${patient.ins.oid}|${patient.ins.matricule}`;
  gp = await harness.seedProfessional(rt.ctx);
  careTeam = await harness.seedProfessional(rt.ctx);
  await addAccessRule(rt.ctx, owner, patient.id, { kind: 'role', role: 'gp', rpps: gp.rpps });
  await addAccessRule(rt.ctx, owner, patient.id, { kind: 'care_team', rpps: careTeam.rpps });
});
afterAll(async () => {
  await rt.close();
});

async function search(
  client: { clientId: string; clientSecret: string },
  query = `patient.identifier=${encodeURIComponent(ins)}`,
) {
  const token = await harness.tokenFor(rt.app, client);
  return rt.app.inject({
    method: 'GET',
    url: `/fhir/R4/AuditEvent?${query}`,
    headers: { authorization: `Bearer ${token}` },
  });
}

describe('GET /fhir/R4/AuditEvent (traces for GP rights)', () => {
  it("gives the GP the record's traces as AuditEvent resources, paged", async () => {
    const res = await search(gp, `patient.identifier=${encodeURIComponent(ins)}&_count=1`);
    expect(res.statusCode, res.body).toBe(200);
    const bundle = res.json<{
      type: string;
      entry: Array<{ resource: { resourceType: string } }>;
      link: Array<{ relation: string; url: string }>;
    }>();
    expect(bundle.type).toBe('searchset');
    expect(bundle.entry).toHaveLength(1);
    expect(bundle.entry[0]?.resource.resourceType).toBe('AuditEvent');
    const next = bundle.link.find((l) => l.relation === 'next');
    expect(next?.url).toMatch(/_cursor=\d+/);
  });

  it('answers 404 to a care-team member without GP rights, and audits the denial', async () => {
    const res = await search(careTeam);
    expect(res.statusCode).toBe(404);
    expect(res.json<{ resourceType: string }>().resourceType).toBe('OperationOutcome');
    const denied = await rt.ctx.rootDb
      .selectFrom('audit_events')
      .select(['actor_id', 'entity_type'])
      .where('outcome', '=', 'denied')
      .where('actor_id', '=', careTeam.rpps)
      .execute();
    expect(denied.some((d) => d.entity_type === 'AuditEvent')).toBe(true);
  });

  it('refuses unknown parameters', async () => {
    const res = await search(gp, `patient.identifier=${encodeURIComponent(ins)}&_include=AuditEvent:agent`);
    expect(res.statusCode).toBe(400);
  });
});
