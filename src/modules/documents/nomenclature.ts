/**
 * Document nomenclatures: DMP document classes (TRE_A03), document type codes (LOINC and the ANS local
 * codes of TRE_A05) with their type→class maps (ASS_X16, ASS_X04, JDV_J07), visibility statuses (TRE_A07),
 * and the patient-facing vault categories of Mon espace santé. The tables are read lazily, once, from
 * refdata/nos/ (origin, versions and licence notes in refdata/README.md).
 *
 * Type codes are looked up by (system, code). The system may be given as its FHIR URL, as `urn:oid:<oid>`
 * (CDA/XDS style) or as the bare OID. Only LOINC and TRE_A05 are supported: the single ASTM entry of JDV_J07
 * (E1762, "Full Document") is a CDA format code, not a DMP document type.
 */
import { AppError } from '../../errors.ts';
import { readCsv, refdataPath } from '../../platform/refdata.ts';

export const LOINC_SYSTEM = 'http://loinc.org';
export const LOINC_OID = '2.16.840.1.113883.6.1';
/** TRE_A03-ClasseDocument (OID 1.2.250.1.213.1.1.4.1): the 11 DMP classes, DocumentReference.category. */
export const TRE_A03_SYSTEM =
  'https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument';
export const TRE_A03_OID = '1.2.250.1.213.1.1.4.1';
/** TRE_A05-TypeDocComplementaire (OID 1.2.250.1.213.1.1.4.12): French type codes where LOINC has none. */
export const TRE_A05_SYSTEM =
  'https://mos.esante.gouv.fr/NOS/TRE_A05-TypeDocComplementaire/FHIR/TRE-A05-TypeDocComplementaire';
export const TRE_A05_OID = '1.2.250.1.213.1.1.4.12';
/** TRE_A07-StatutVisibiliteDocument (OID 1.2.250.1.213.1.1.4.13): DocumentReference.securityLabel codes. */
export const TRE_A07_SYSTEM =
  'https://mos.esante.gouv.fr/NOS/TRE_A07-StatutVisibiliteDocument/FHIR/TRE-A07-StatutVisibiliteDocument';
export const TRE_A07_OID = '1.2.250.1.213.1.1.4.13';

/** The 11 TRE_A03 class codes, by the name the access rules use. */
export const CLASS_CODES = {
  report: '10',
  synthesis: '11',
  imaging: '31',
  prescription: '42',
  dispensation: '43',
  carePlan: '44',
  administeredTreatment: '45',
  certificate: '52',
  reimbursement: '60',
  patientDeposited: '90',
  management: '95',
} as const;

export interface CodeLabel {
  code: string;
  label: string;
}

/** A type code as the DMP accepts it (ASS_X16), with its class. */
export interface DocumentType {
  system: typeof LOINC_SYSTEM | typeof TRE_A05_SYSTEM;
  code: string;
  label: string;
  classCode: string;
}

/**
 * Patient-facing vault categories (DOMAIN.md §3). `mesCode` is the matching category code of the official
 * Mon espace santé API, as seen in its published mobile app (assurance-maladie-mesdmp/ens-mobile),
 * kept for data exchange with it. `patientType` is the type code a patient upload in that category is
 * filed under: the TRE_A05 codes ANS created for patient deposits (DOCPAT01 synthesis … DOCPAT09
 * administrative, EXPPAT_1–3), LOINC 74465-6 for questionnaires; none where only professionals or the
 * insurer file documents (vaccination record, reimbursements).
 */
export const VAULT_CATEGORIES = Object.freeze([
  cat('summary', 'SYNTHESE', 'Synthèses', 'Summaries', 'DOCPAT01'),
  cat('prescriptions', 'ORD_SOIN', 'Ordonnances et soins', 'Prescriptions and care', 'DOCPAT02'),
  cat('imaging', 'RADIO_SC', 'Imagerie médicale', 'Medical imaging', 'DOCPAT04'),
  cat('biology', 'BIOLOGIE', 'Résultats de biologie', 'Laboratory results', 'DOCPAT05'),
  cat('reports', 'CPT_REND', 'Comptes rendus', 'Reports', 'DOCPAT03'),
  cat('prevention', 'DEPISTAG', 'Prévention et dépistage', 'Prevention and screening', 'DOCPAT06'),
  cat('certificates', 'CERT_MED', 'Certificats', 'Certificates', 'DOCPAT07'),
  cat('other', 'AUTR_DOC', 'Autres documents', 'Other documents', 'EXPPAT_2'),
  cat('administrative', 'DOC_ADM', 'Papiers administratifs', 'Administrative papers', 'DOCPAT09'),
  cat('profile-synthesis', 'SYNTH_PML', 'Synthèse du profil médical', 'Medical profile summary', 'DOCPAT08'),
  cat('advance-directives', 'DIR_ANT', 'Directives anticipées', 'Advance directives', 'EXPPAT_3'),
  cat('vaccinations', 'CAR_VAC', 'Carnet de vaccination', 'Vaccination record', undefined),
  cat('wishes', 'VDP', 'Volontés et droits', 'Wishes and rights', 'EXPPAT_1'),
  cat('reimbursements', 'REMB', 'Remboursements', 'Reimbursements', undefined),
  cat('questionnaires', 'QUEST_SANTE', 'Questionnaires des âges clés', 'Key-age questionnaires', '74465-6'),
] as const);

export type VaultCategory = (typeof VAULT_CATEGORIES)[number]['slug'];

function cat<const S extends string>(
  slug: S,
  mesCode: string,
  fr: string,
  en: string,
  type: string | undefined,
) {
  // LOINC codes start with a digit; the TRE_A05 codes used here never do.
  const patientType =
    type === undefined
      ? undefined
      : Object.freeze({ system: /^[0-9]/.test(type) ? LOINC_SYSTEM : TRE_A05_SYSTEM, code: type });
  return Object.freeze({ slug, mesCode, label: Object.freeze({ fr, en }), patientType });
}

/**
 * Category by class. Decisions: the four care classes (prescription, dispensation, care plan, administered
 * treatment) are what MES calls "prescriptions & care"; class 90 (deposited by the patient) has no subject
 * of its own, so it is "other" unless its type says more; class 95 (management documents: attestations,
 * identity papers, consent) is "administrative"; an unknown class is "other", never an error.
 */
const CATEGORY_BY_CLASS: Readonly<Record<string, VaultCategory>> = {
  '10': 'reports',
  '11': 'summary',
  '31': 'imaging',
  '42': 'prescriptions',
  '43': 'prescriptions',
  '44': 'prescriptions',
  '45': 'prescriptions',
  '52': 'certificates',
  '60': 'reimbursements',
  '90': 'other',
  '95': 'administrative',
};

/**
 * Type codes whose category differs from their class's (LOINC and TRE_A05 codes never collide, so the code
 * alone is enough). Decisions:
 * - biology: lab reports (11502-2), molecular genetics reports (51969-4, a lab analysis), patient-deposited
 *   lab reports (DOCPAT05) and rapid diagnostic tests (96173-0, TROD: class "certificate" in the DMP, but
 *   what the patient reads is a test result). Pathology reports (60568-3) stay in "reports": in France
 *   anatomical pathology is not "biologie médicale".
 * - imaging: the retired LOINC imaging report 11528-7, which ASS_X04 still files under class 10.
 * - prevention: reports of preventive or screening acts (75492-9, 75482-0 and their retired codes 39256-3,
 *   29554-3), the child health examinations (59283-2) and child prevention check-up (68817-6), the
 *   personalised prevention plan (83869-8) and patient-deposited prevention reports (DOCPAT06).
 * - vaccinations: vaccination history (11369-6), vaccination note (87273-9), COVID-19 vaccination
 *   certificate (96874-3), all class "certificate" in the DMP.
 * - questionnaires: the patient questionnaire (74465-6), how key-age prevention questionnaires are filed.
 * - the MES-specific patient types: DOCPAT08 (MES medical profile) → profile synthesis, EXPPAT_1 (wishes
 *   and rights) → wishes, EXPPAT_3 → advance directives; DOCPAT01–09 otherwise agree with their class.
 */
const CATEGORY_BY_TYPE: Readonly<Record<string, VaultCategory>> = {
  '11502-2': 'biology',
  '51969-4': 'biology',
  '96173-0': 'biology',
  DOCPAT05: 'biology',
  '11528-7': 'imaging',
  '75492-9': 'prevention',
  '75482-0': 'prevention',
  '39256-3': 'prevention',
  '29554-3': 'prevention',
  '59283-2': 'prevention',
  '68817-6': 'prevention',
  '83869-8': 'prevention',
  DOCPAT06: 'prevention',
  '11369-6': 'vaccinations',
  '87273-9': 'vaccinations',
  '96874-3': 'vaccinations',
  '74465-6': 'questionnaires',
  DOCPAT08: 'profile-synthesis',
  EXPPAT_1: 'wishes',
  EXPPAT_3: 'advance-directives',
};

/** The system names the CSV files use. */
type TableSystem = 'LOINC' | 'TRE_A05-TypeDocComplementaire';

interface TypeEntry {
  label: string;
  /** Only when it is one of the 11 TRE_A03 codes (the files also hold 99 and an ASTM URN). */
  classCode: string | undefined;
}

interface Tables {
  classes: readonly CodeLabel[];
  visibility: readonly CodeLabel[];
  /** Keyed by `${TableSystem}|${code}`, in the order ASS_X16, ASS_X04, JDV_J07 are consulted. */
  typeMaps: ReadonlyArray<ReadonlyMap<string, TypeEntry>>;
  dmpTypes: readonly DocumentType[];
}

let tables: Tables | undefined;

function required(row: Record<string, string>, name: string, source: string): string {
  const value = row[name];
  if (value === undefined || value === '') throw new AppError('internal', `${source}: a row has no ${name}`);
  return value;
}

/** Column names of one type→class file. */
interface TypeMapColumns {
  system: string;
  label: string;
  classCode: string;
}

function readTypeMap(file: string, columns: TypeMapColumns, classes: ReadonlySet<string>) {
  const map = new Map<string, TypeEntry>();
  for (const row of readCsv(refdataPath('nos', file))) {
    const system = required(row, columns.system, file);
    if (system !== 'LOINC' && system !== 'TRE_A05-TypeDocComplementaire') continue;
    const classCode = row[columns.classCode] ?? '';
    map.set(`${system}|${required(row, 'type_code', file)}`, {
      label: row[columns.label] ?? '',
      classCode: classes.has(classCode) ? classCode : undefined,
    });
  }
  return map;
}

function load(): Tables {
  if (tables !== undefined) return tables;
  const classes = readCsv(refdataPath('nos', 'tre-a03-classe-document.csv')).map((row) =>
    Object.freeze({ code: required(row, 'code', 'TRE_A03'), label: required(row, 'label', 'TRE_A03') }),
  );
  const visibility = readCsv(refdataPath('nos', 'tre-a07-statut-visibilite-document.csv')).map((row) =>
    Object.freeze({ code: required(row, 'code', 'TRE_A07'), label: required(row, 'label', 'TRE_A07') }),
  );
  const classCodes = new Set(classes.map((c) => c.code));
  const mapColumns = { system: 'type_code_system', label: 'type_label', classCode: 'class_code' };
  const x16 = readTypeMap('ass-x16-correspondance-type-classe-dmp.csv', mapColumns, classCodes);
  const x04 = readTypeMap('ass-x04-correspondance-type-classe-cisis.csv', mapColumns, classCodes);
  const j07 = readTypeMap(
    'jdv-j07-xds-typecode-cisis.csv',
    { system: 'code_system', label: 'label', classCode: 'class_code_via_ASS_X04' },
    classCodes,
  );
  const dmpTypes = [...x16].map(([key, entry]) => {
    const [system = '', code = ''] = key.split('|');
    if (entry.classCode === undefined) {
      throw new AppError('internal', `ASS_X16: type ${code} has no known class`);
    }
    return Object.freeze({
      system: system === 'LOINC' ? LOINC_SYSTEM : TRE_A05_SYSTEM,
      code,
      label: entry.label,
      classCode: entry.classCode,
    } as const);
  });
  tables = { classes, visibility, typeMaps: [x16, x04, j07], dmpTypes };
  return tables;
}

/** Maps a FHIR URL, `urn:oid:` OID or bare OID to the system name the tables use. */
function tableSystem(system: string): TableSystem | undefined {
  const s = system.trim();
  const oid = s.toLowerCase().startsWith('urn:oid:') ? s.slice('urn:oid:'.length) : s;
  if (s === LOINC_SYSTEM || oid === LOINC_OID) return 'LOINC';
  if (s === TRE_A05_SYSTEM || oid === TRE_A05_OID) return 'TRE_A05-TypeDocComplementaire';
  return undefined;
}

function typeEntries(system: string, code: string): TypeEntry[] {
  const key = tableSystem(system);
  if (key === undefined) return [];
  const found: TypeEntry[] = [];
  for (const map of load().typeMaps) {
    const entry = map.get(`${key}|${code}`);
    if (entry !== undefined) found.push(entry);
  }
  return found;
}

/**
 * The 11 DMP document classes (TRE_A03), in code order.
 *
 * @example
 * documentClasses()[0]; // { code: '10', label: 'Compte rendu' }
 */
export function documentClasses(): readonly CodeLabel[] {
  return load().classes;
}

/**
 * The TRE_A03 class of a document type: ASS_X16 (the DMP's own map) first, then ASS_X04 (CI-SIS map,
 * retired types included), then JDV_J07. Undefined for an unknown type or one without a DMP class.
 *
 * @example
 * classForType(LOINC_SYSTEM, '11502-2'); // '10'
 * classForType('urn:oid:1.2.250.1.213.1.1.4.12', 'DOCPAT04'); // '31'
 */
export function classForType(system: string, code: string): string | undefined {
  return typeEntries(system, code).find((entry) => entry.classCode !== undefined)?.classCode;
}

/**
 * The French display of a document type (same precedence as classForType), or undefined.
 *
 * @example
 * typeDisplay(LOINC_SYSTEM, '18748-4'); // "CR d'imagerie médicale"
 */
export function typeDisplay(system: string, code: string): string | undefined {
  return typeEntries(system, code).find((entry) => entry.label !== '')?.label;
}

/**
 * Whether the type appears in ASS_X16, ASS_X04 or JDV_J07 (retired types included).
 *
 * @example
 * isKnownType(LOINC_SYSTEM, '34133-9'); // true
 */
export function isKnownType(system: string, code: string): boolean {
  return typeEntries(system, code).length > 0;
}

/**
 * Whether the DMP accepts this type (ASS_X16, i.e. JDV_J66-TypeCode-DMP).
 *
 * @example
 * isDmpType(LOINC_SYSTEM, '51851-4'); // false: a CI-SIS type the DMP does not take
 */
export function isDmpType(system: string, code: string): boolean {
  const key = tableSystem(system);
  return key !== undefined && (load().typeMaps[0]?.has(`${key}|${code}`) ?? false);
}

/**
 * Every type the DMP accepts (ASS_X16), with its class: the rows of the access matrix.
 *
 * @example
 * dmpDocumentTypes().filter((t) => t.classCode === CLASS_CODES.imaging).length; // 4
 */
export function dmpDocumentTypes(): readonly DocumentType[] {
  return load().dmpTypes;
}

/**
 * The TRE_A07 visibility statuses (MASQUE_PS, INVISIBLE_PATIENT, …).
 *
 * @example
 * visibilityStatuses().map((s) => s.code).includes('INVISIBLE_REPRESENTANTS_LEGAUX'); // true
 */
export function visibilityStatuses(): readonly CodeLabel[] {
  return load().visibility;
}

/**
 * Whether a string is one of the vault category slugs.
 *
 * @example
 * isVaultCategory('biology'); // true
 */
export function isVaultCategory(value: string): value is VaultCategory {
  return VAULT_CATEGORIES.some((c) => c.slug === value);
}

/**
 * The vault category of a document from its DMP class, refined by its type code where the type says more
 * (see CATEGORY_BY_TYPE: the type wins when listed). Unknown classes fall into "other".
 *
 * @example
 * categoryForClass('10', '11502-2'); // 'biology'
 * categoryForClass('10', '11488-4'); // 'reports'
 * categoryForClass('60'); // 'reimbursements'
 */
export function categoryForClass(classCode: string, typeCode?: string): VaultCategory {
  const byType = typeCode === undefined ? undefined : CATEGORY_BY_TYPE[typeCode];
  return byType ?? CATEGORY_BY_CLASS[classCode] ?? 'other';
}

/**
 * The vault category of a document type, through its class (classForType) and categoryForClass.
 * A type from an unsupported code system is "other".
 *
 * @example
 * categoryForType(TRE_A05_SYSTEM, 'EXPPAT_3'); // 'advance-directives'
 */
export function categoryForType(system: string, code: string): VaultCategory {
  if (tableSystem(system) === undefined) return 'other';
  return categoryForClass(classForType(system, code) ?? '', code);
}
