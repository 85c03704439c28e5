import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import type { Ctx } from './platform/context.ts';
import { randomToken } from './platform/crypto.ts';
import {
  addAccessRule,
  grantRepresentation,
  type PatientActor,
  type ProfessionalActor,
} from './modules/access/index.ts';
import { ingestSubmission } from './modules/documents/index.ts';
import { deliverPendingNotices, importPopulation } from './modules/accounts/index.ts';
import {
  createClient,
  getPatient,
  registerOrganization,
  registerPatient,
  registerProfessional,
} from './modules/identity/index.ts';

/**
 * Demo data, seeded on the first start in demo mode only: two patients (an adult and a child), a
 * GP, a hospital, a lab, a pharmacist and a nurse, each professional with a software client, and a
 * few documents. What a newcomer needs to try every flow is written to <dataDir>/demo.json (0600).
 */

export interface DemoFile {
  baseUrl: string;
  patients: Array<{
    ins: string;
    insOid: string;
    given: string;
    family: string;
    birthDate: string;
    login: string | null;
    password: string | null;
  }>;
  professionals: Array<{
    rpps: string;
    profession: string;
    name: string;
    organization: string;
    clientId: string;
    clientSecret: string;
  }>;
  /**
   * A person imported from the insurer's file, not activated yet: what activation asks for. The
   * provisional code is in the notice e-mail (`/dev/mail`), never here.
   */
  toActivate?: { given: string; family: string; matricule: string; cardSerial: string; birthDate: string };
}

/** Lucas Bernard arrives through the real population import, like everyone in production. */
const TO_ACTIVATE = {
  matricule: '188057505612338',
  given: 'Lucas',
  family: 'Bernard',
  birthDate: '1988-05-21',
  cardSerial: 'VITALE1988',
  email: 'lucas.bernard@demo.carnet',
};

// Test-OID identities (1.2.250.1.213.1.4.10, the OID of the ANS test examples), with correct keys.
const TEST_OID = '1.2.250.1.213.1.4.10';
const PATIENTS = [
  {
    matricule: '279035121518989',
    given: 'Camille',
    family: 'Martin',
    birthDate: '1979-03-12',
    sex: 'F' as const,
    login: 'camille.martin@demo.carnet',
  },
  {
    matricule: '119067512345625',
    given: 'Léo',
    family: 'Martin',
    birthDate: '2019-06-03',
    sex: 'M' as const,
    login: null,
  },
];

// RPPS numbers below pass the Luhn check; they are fictitious.
const PROFESSIONALS = [
  {
    rpps: '10100000016',
    professionCode: '10',
    specialtyCode: 'SM54',
    given: 'Hélène',
    family: 'Dubois',
    profession: 'Médecin généraliste',
    clientId: 'demo-gp',
    org: { finess: null, name: 'Cabinet médical du Parc', kind: 'cabinet' },
  },
  {
    rpps: '10100000024',
    professionCode: '10',
    specialtyCode: 'SM04',
    given: 'Karim',
    family: 'Benali',
    profession: 'Cardiologue (hôpital)',
    clientId: 'demo-hospital',
    org: { finess: '750000010', name: 'Hôpital Saint-Roch (démo)', kind: 'hospital' },
  },
  {
    rpps: '10100000032',
    professionCode: '10',
    specialtyCode: 'SM03',
    given: 'Sophie',
    family: 'Lambert',
    profession: 'Biologiste (laboratoire)',
    clientId: 'demo-lab',
    org: { finess: '750000028', name: 'Laboratoire Biolab (démo)', kind: 'laboratory' },
  },
  {
    rpps: '10100000040',
    professionCode: '21',
    specialtyCode: undefined,
    given: 'Marc',
    family: 'Petit',
    profession: 'Pharmacien',
    clientId: 'demo-pharmacy',
    org: { finess: '750000036', name: 'Pharmacie de la Gare (démo)', kind: 'pharmacy' },
  },
  {
    rpps: '10100000057',
    professionCode: '60',
    specialtyCode: undefined,
    given: 'Julie',
    family: 'Moreau',
    profession: 'Infirmière',
    clientId: 'demo-nurse',
    org: { finess: null, name: 'Cabinet infirmier (démo)', kind: 'cabinet' },
  },
  {
    rpps: '10100000065',
    professionCode: '10',
    specialtyCode: 'SM54',
    given: 'Thomas',
    family: 'Girard',
    profession: 'Médecin régulateur (SAMU)',
    clientId: 'demo-samu',
    org: { finess: '750000044', name: 'SAMU 75 — centre 15 (démo)', kind: 'samu' },
  },
];

export function demoFilePath(dataDir: string): string {
  return join(dataDir, 'demo.json');
}

export function readDemoFile(dataDir: string): DemoFile | undefined {
  const path = demoFilePath(dataDir);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as DemoFile) : undefined;
}

function pdf(lines: string[]): Buffer {
  const text = lines
    .map((l, i) => `BT /F1 12 Tf 40 ${760 - i * 18} Td (${l.replace(/[()\\]/g, '')}) Tj ET`)
    .join('\n');
  const objects = [
    '<</Type/Catalog/Pages 2 0 R>>',
    '<</Type/Pages/Kids[3 0 R]/Count 1>>',
    '<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</Font<</F1 5 0 R>>>>/Contents 4 0 R>>',
    `<</Length ${Buffer.byteLength(text, 'latin1')}>>\nstream\n${text}\nendstream`,
    '<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<</Size ${objects.length + 1}/Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function labCda(matricule: string, oid: string, rpps: string): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="1.2.250.1.999.1.1" extension="demo-lab-${matricule}"/>
  <code code="11502-2" codeSystem="2.16.840.1.113883.6.1" displayName="CR d'examens biologiques"/>
  <title>Compte rendu d'examens biologiques — glycémie</title>
  <effectiveTime value="20261102083000+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <recordTarget><patientRole>
    <id root="${oid}" extension="${matricule}"/>
    <patient><name><given>Camille</given><family>Martin</family></name><administrativeGenderCode code="F"/><birthTime value="19790312"/></patient>
  </patientRole></recordTarget>
  <author><time value="20261102083000+0100"/><assignedAuthor>
    <id root="1.2.250.1.71.4.2.1" extension="8${rpps}"/>
    <assignedPerson><name><given>Sophie</given><family>Lambert</family></name></assignedPerson>
  </assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization><id root="1.2.250.1.71.4.2.2" extension="1750000028"/><name>Laboratoire Biolab</name></representedCustodianOrganization></assignedCustodian></custodian>
  <component><structuredBody><component><section>
    <code code="18723-7" codeSystem="2.16.840.1.113883.6.1" displayName="Hematology studies"/>
    <title>Biochimie</title>
    <text><table><tbody><tr><td>Glycémie à jeun</td><td>0,95 g/L</td><td>(0,70 – 1,10)</td></tr></tbody></table></text>
  </section></component></structuredBody></component>
</ClinicalDocument>
`,
    'utf8',
  );
}

/** Seeds the demo data if absent and returns what demo.json holds. Idempotent across restarts. */
export async function seedDemo(ctx: Ctx): Promise<DemoFile> {
  const existing = readDemoFile(ctx.config.dataDir);
  if (existing) return { ...existing, baseUrl: ctx.config.baseUrl };

  const demo: DemoFile = { baseUrl: ctx.config.baseUrl, patients: [], professionals: [] };
  const patientIds: string[] = [];
  for (const p of PATIENTS) {
    const password = p.login ? `demo-${randomToken(9)}` : null;
    const { patient } = await registerPatient(ctx, {
      matricule: p.matricule,
      oid: TEST_OID,
      given: p.given,
      family: p.family,
      birthDate: p.birthDate,
      sex: p.sex,
      ...(p.login && password ? { login: p.login, password, email: p.login } : {}),
    });
    patientIds.push(patient.id);
    demo.patients.push({
      ins: p.matricule,
      insOid: TEST_OID,
      given: p.given,
      family: p.family,
      birthDate: p.birthDate,
      login: p.login,
      password,
    });
  }
  const actors: ProfessionalActor[] = [];
  for (const p of PROFESSIONALS) {
    const org = await registerOrganization(ctx, p.org);
    const pro = await registerProfessional(ctx, {
      rpps: p.rpps,
      professionCode: p.professionCode,
      ...(p.specialtyCode ? { specialtyCode: p.specialtyCode } : {}),
      given: p.given,
      family: p.family,
    });
    const client = await createClient(ctx, {
      organizationId: org.id,
      professionalId: pro.id,
      name: `${p.org.name} — logiciel`,
      clientId: p.clientId,
    });
    demo.professionals.push({
      rpps: p.rpps,
      profession: p.profession,
      name: `${p.given} ${p.family}`,
      organization: p.org.name,
      ...client,
    });
    actors.push({
      kind: 'professional',
      professionalId: pro.id,
      rpps: p.rpps,
      professionCode: p.professionCode,
      specialtyCode: p.specialtyCode ?? null,
      display: `${p.given} ${p.family}`,
      organizationId: org.id,
      clientId: client.clientId,
    });
  }

  const camille = await getPatient(ctx, patientIds[0] as string);
  const leo = await getPatient(ctx, patientIds[1] as string);
  const [gp, cardio, lab] = actors as [ProfessionalActor, ProfessionalActor, ProfessionalActor];
  if (camille && leo) {
    await ingestSubmission(ctx, gp, {
      patient: camille,
      documents: [
        {
          masterIdentifier: 'urn:oid:1.2.250.1.999.2.1.1',
          mediaType: 'application/pdf',
          content: pdf([
            'Compte rendu de consultation',
            'Dr Helene Dubois - medecine generale',
            'Patiente: Camille Martin',
            'Bilan annuel: examen normal.',
          ]),
          type: { system: 'http://loinc.org', code: '11488-4', display: 'Note de consultation' },
          title: 'Compte rendu de consultation',
          documentDate: '2026-10-20T09:30:00+02:00',
          fieldPrefix: 'demo',
        },
        {
          masterIdentifier: 'urn:oid:1.2.250.1.999.2.1.2',
          mediaType: 'application/pdf',
          content: pdf([
            'Ordonnance',
            'Dr Helene Dubois',
            'Paracetamol 1 g, 3 fois par jour pendant 5 jours',
          ]),
          type: { system: 'http://loinc.org', code: '57833-6', display: 'Prescription de produits de santé' },
          title: 'Ordonnance',
          documentDate: '2026-10-20T09:45:00+02:00',
          fieldPrefix: 'demo',
        },
      ],
    });
    await ingestSubmission(ctx, lab, {
      patient: camille,
      documents: [
        {
          masterIdentifier: 'urn:oid:1.2.250.1.999.2.3.1',
          mediaType: 'application/xml',
          content: labCda(camille.ins.matricule, camille.ins.oid, lab.rpps),
          fieldPrefix: 'demo',
        },
      ],
    });
    await ingestSubmission(ctx, cardio, {
      patient: camille,
      documents: [
        {
          masterIdentifier: 'urn:oid:1.2.250.1.999.2.2.1',
          mediaType: 'application/pdf',
          content: pdf([
            'Lettre de liaison de sortie',
            'Hopital Saint-Roch - cardiologie',
            'Sejour du 3 au 5 novembre 2026',
          ]),
          type: { system: 'http://loinc.org', code: '34133-9', display: 'Synthèse d’épisode de soins' },
          title: 'Lettre de liaison de sortie',
          documentDate: '2026-11-05T16:00:00+01:00',
          fieldPrefix: 'demo',
        },
      ],
    });
    await ingestSubmission(ctx, gp, {
      patient: leo,
      documents: [
        {
          masterIdentifier: 'urn:oid:1.2.250.1.999.2.1.3',
          mediaType: 'application/pdf',
          content: pdf(['Certificat medical', 'Leo Martin - apte a la pratique sportive']),
          type: { system: 'http://loinc.org', code: '11488-4', display: 'Note de consultation' },
          title: 'Certificat de non contre-indication au sport',
          documentDate: '2026-09-01T17:00:00+02:00',
          fieldPrefix: 'demo',
        },
      ],
    });
  }
  if (camille && leo) await seedRules(ctx, camille.id, leo.id);
  const t = TO_ACTIVATE;
  const csv =
    'matricule,oid,birth_family_name,first_names,birth_date,sex,birthplace_code,email,address_line1,' +
    'address_line2,postal_code,city,card_serial,parent_matricule\n' +
    `${t.matricule},${TEST_OID},${t.family},${t.given},${t.birthDate},M,75056,${t.email},,,,,${t.cardSerial},\n`;
  const imported = await importPopulation(ctx, Readable.from([csv]), { source: 'demo' });
  if (imported.created === 1) {
    await deliverPendingNotices(ctx);
    demo.toActivate = {
      given: t.given,
      family: t.family,
      matricule: t.matricule,
      cardSerial: t.cardSerial,
      birthDate: t.birthDate,
    };
  } else {
    ctx.log.warn({ rejections: imported.rejections }, 'demo: the person to activate was not imported');
  }
  writeFileSync(demoFilePath(ctx.config.dataDir), JSON.stringify(demo, null, 2) + '\n', { mode: 0o600 });
  return demo;
}

/**
 * Who may see what in the demo: Camille chose Dr Dubois as her GP, has the hospital cardiologist,
 * the lab and the nurse in her care team, and gave the pharmacist her consent at the counter; she
 * is Léo's legal representative, and Dr Dubois is Léo's GP too.
 */
async function seedRules(ctx: Ctx, camilleId: string, leoId: string): Promise<void> {
  const [gp, cardio, lab, pharmacist, nurse] = PROFESSIONALS.map((p) => p.rpps) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const camille: PatientActor = {
    kind: 'patient',
    patientId: camilleId,
    display: 'Camille Martin',
    sessionId: 'demo-seed',
  };
  await addAccessRule(ctx, camille, camilleId, { kind: 'role', role: 'gp', rpps: gp });
  for (const rpps of [cardio, lab, nurse])
    await addAccessRule(ctx, camille, camilleId, { kind: 'care_team', rpps });
  await addAccessRule(ctx, camille, camilleId, { kind: 'consent', rpps: pharmacist, channel: 'in_person' });
  const system = { kind: 'system' as const, display: 'Carnet (déclaration de naissance)' };
  await grantRepresentation(ctx, system, leoId, { personId: camilleId, role: 'legal_representative' });
  await addAccessRule(ctx, system, leoId, { kind: 'role', role: 'gp', rpps: gp });
}
