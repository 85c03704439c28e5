/**
 * The record of the gate benchmark, written through the service layer (the same code paths as the
 * API, minus HTTP): one patient with `docs` small documents from one author, 20 access rules of
 * every kind, and the professional who lists them — a doctor in the patient's care team.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import {
  addAccessRule,
  type NewRule,
  type PatientActor,
  type ProfessionalActor,
} from '../../src/modules/access/index.ts';
import {
  ingestSubmission,
  setDocumentMasked,
  shareDocument,
  type IncomingDocument,
} from '../../src/modules/documents/index.ts';
import {
  createClient,
  registerOrganization,
  registerPatient,
  registerProfessional,
  type Patient,
} from '../../src/modules/identity/index.ts';
import { createFsBlobStore } from '../../src/platform/blob-store.fs.ts';
import { systemClock } from '../../src/platform/clock.ts';
import type { Ctx } from '../../src/platform/context.ts';
import { masterKeyFrom } from '../../src/platform/crypto.ts';
import { migrateToLatest, openDatabase } from '../../src/platform/db/database.ts';
import { makeMatricule, makeRpps, NIR_OID } from '../../test/harness.ts';
import { makePdf } from './documents.ts';

export interface GateWorld {
  patient: Patient;
  viewer: { rpps: string; clientId: string; clientSecret: string };
  documentIds: string[];
  ruleCount: number;
  maskedCount: number;
}

const TYPES = ['11488-4', '11502-2', '11506-3', '34112-3', '68599-0', '18748-4', '34133-9'];

async function professional(ctx: Ctx, professionCode: string, org: string) {
  const pro = await registerProfessional(ctx, {
    rpps: makeRpps(),
    professionCode,
    ...(professionCode === '10' ? { specialtyCode: 'SM54' } : {}),
    given: 'Bench',
    family: `Pro ${randomBytes(3).toString('hex')}`,
  });
  const client = await createClient(ctx, { organizationId: org, professionalId: pro.id, name: 'bench' });
  return { ...pro, ...client };
}

/**
 * Seeds the record into the database at `databaseUrl` (migrating it first), with document files
 * under `<dataDir>/blobs` sealed by `masterKey` — what the server started afterwards will use.
 * @example const world = await seedGateWorld({ databaseUrl, dataDir, masterKey, docs: 500 });
 */
export async function seedGateWorld(options: {
  databaseUrl: string;
  dataDir: string;
  masterKey: string;
  docs: number;
}): Promise<GateWorld> {
  const handle = await openDatabase({ kind: 'postgres', url: options.databaseUrl, poolSize: 4 });
  const blobs = await createFsBlobStore({ root: join(options.dataDir, 'blobs'), fsync: false });
  try {
    await migrateToLatest(handle.db);
    const config = loadConfig({
      CARNET_DATA_DIR: options.dataDir,
      DATABASE_URL: options.databaseUrl,
      CARNET_MASTER_KEY: options.masterKey,
      LOG_LEVEL: 'silent',
    });
    const ctx: Ctx = {
      db: handle.db,
      rootDb: handle.db,
      blobs,
      masterKey: masterKeyFrom(Buffer.from(options.masterKey, 'base64')),
      clock: systemClock,
      config,
      log: pino({ level: 'silent' }),
      requestId: 'bench-seed',
    };
    const { patient } = await registerPatient(ctx, {
      matricule: makeMatricule(),
      oid: NIR_OID,
      given: 'Claude',
      family: 'Banc',
      birthDate: '1970-05-04',
      sex: 'U',
    });
    const owner: PatientActor = {
      kind: 'patient',
      patientId: patient.id,
      display: 'Claude Banc',
      sessionId: 'bench',
    };
    const org = (await registerOrganization(ctx, { finess: null, name: 'Cabinet bench', kind: 'cabinet' }))
      .id;
    const author = await professional(ctx, '10', org);
    const authorActor: ProfessionalActor = {
      kind: 'professional',
      professionalId: author.id,
      rpps: author.rpps,
      professionCode: '10',
      specialtyCode: 'SM54',
      display: 'Bench Author',
      organizationId: org,
      clientId: author.clientId,
    };
    const documentIds: string[] = [];
    for (let start = 0; start < options.docs; start += 50) {
      const batch: IncomingDocument[] = [];
      for (let i = start; i < Math.min(options.docs, start + 50); i++) {
        batch.push({
          masterIdentifier: `urn:uuid:${crypto.randomUUID()}`,
          mediaType: 'application/pdf',
          content: makePdf(1024, `Bench document ${i + 1}`),
          type: { system: 'http://loinc.org', code: TYPES[i % TYPES.length] as string },
          title: `Document ${i + 1}`,
          fieldPrefix: 'DocumentReference',
        });
      }
      const result = await ingestSubmission(ctx, authorActor, { patient, documents: batch });
      documentIds.push(...result.documents.map((d) => d.meta.id));
    }

    // One document in twenty is masked by the patient: the listing decides each one.
    const masked = documentIds.filter((_, i) => i % 20 === 7);
    for (const id of masked) await setDocumentMasked(ctx, owner, id, true);

    const viewer = await professional(ctx, '10', org);
    let rules = 0;
    const rule = async (professionCode: string, make: (rpps: string) => NewRule) => {
      const pro = await professional(ctx, professionCode, org);
      await addAccessRule(ctx, owner, patient.id, make(pro.rpps));
      rules++;
    };
    await addAccessRule(ctx, owner, patient.id, { kind: 'care_team', rpps: viewer.rpps });
    rules++;
    for (const code of ['10', '60', '21', '50']) await rule(code, (rpps) => ({ kind: 'care_team', rpps }));
    for (const channel of ['in_person', 'phone', 'online', 'card', 'in_person'] as const) {
      await rule('10', (rpps) => ({ kind: 'consent', rpps, channel }));
    }
    for (const [role, code] of [
      ['gp', '10'],
      ['administrator', '10'],
      ['referent_midwife', '50'],
      ['correspondent_pharmacist', '21'],
    ] as const) {
      await rule(code, (rpps) => ({ kind: 'role', rpps, role }));
    }
    for (let i = 0; i < 3; i++) await rule('10', (rpps) => ({ kind: 'block', rpps }));
    const until = new Date(Date.now() + 30 * 86_400_000).toISOString();
    for (const id of masked.slice(0, 3)) {
      const pro = await professional(ctx, '10', org);
      await shareDocument(ctx, owner, patient.id, { documentId: id, rpps: pro.rpps, until });
      rules++;
    }
    return {
      patient,
      viewer: { rpps: viewer.rpps, clientId: viewer.clientId, clientSecret: viewer.clientSecret },
      documentIds,
      ruleCount: rules,
      maskedCount: masked.length,
    };
  } finally {
    await blobs.close();
    await handle.close();
  }
}
