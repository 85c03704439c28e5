/**
 * Health professions (ANS nomenclature TRE_G15-ProfessionSante) and ordinal specialties
 * (TRE_R38-SpecialiteOrdinale), read once from refdata/nos/ (origin and version in refdata/README.md).
 *
 * "Known" means present in the nomenclature, obsolete or deprecated entries included, so that records
 * written with them stay readable; use `active` to decide what may be chosen for new data.
 */
import { AppError } from '../../errors.ts';
import { readCsv, refdataPath } from '../../platform/refdata.ts';

/** FHIR CodeSystem URL of TRE_G15 (OID 1.2.250.1.71.1.2.7). */
export const PROFESSION_SYSTEM =
  'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';
/** FHIR CodeSystem URL of TRE_R38 (OID 1.2.250.1.213.2.28). */
export const SPECIALTY_SYSTEM =
  'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale';

/** A few TRE_G15 codes the rules refer to by name. */
export const PROFESSION_CODES = {
  doctor: '10',
  pharmacist: '21',
  dentist: '40',
  midwife: '50',
  nurse: '60',
  physiotherapist: '70',
} as const;

export interface Profession {
  code: string;
  label: string;
  /** False for codes the nomenclature marks obsolete (e.g. 93 Psychologue, moved to TRE_R95). */
  active: boolean;
}

export interface Specialty {
  code: string;
  label: string;
  /** The TRE_G15 profession the specialty belongs to (SM→10, SCD→40, SI→60, SP→21). */
  professionCode: string;
  /** False for codes the nomenclature marks deprecated (SP01–SP04 since 2018). */
  active: boolean;
}

interface Tables {
  professions: ReadonlyMap<string, Readonly<Profession>>;
  specialties: ReadonlyMap<string, Readonly<Specialty>>;
}

let tables: Tables | undefined;

function field(row: Record<string, string>, name: string, source: string): string {
  const value = row[name];
  if (value === undefined || value === '') throw new AppError('internal', `${source}: a row has no ${name}`);
  return value;
}

function load(): Tables {
  if (tables !== undefined) return tables;
  const professions = new Map<string, Readonly<Profession>>();
  for (const row of readCsv(refdataPath('nos', 'tre-g15-profession-sante.csv'))) {
    const code = field(row, 'code', 'TRE_G15');
    professions.set(
      code,
      Object.freeze({
        code,
        label: field(row, 'label', 'TRE_G15'),
        active: field(row, 'status', 'TRE_G15') === 'active',
      }),
    );
  }
  const specialties = new Map<string, Readonly<Specialty>>();
  for (const row of readCsv(refdataPath('nos', 'tre-r38-specialite-ordinale.csv'))) {
    const code = field(row, 'code', 'TRE_R38');
    const professionCode = field(row, 'g15_profession', 'TRE_R38');
    if (!professions.has(professionCode)) {
      throw new AppError(
        'internal',
        `TRE_R38: specialty ${code} refers to unknown profession ${professionCode}`,
      );
    }
    specialties.set(
      code,
      Object.freeze({
        code,
        label: field(row, 'label', 'TRE_R38'),
        professionCode,
        active: field(row, 'status', 'TRE_R38') === 'active',
      }),
    );
  }
  tables = { professions, specialties };
  return tables;
}

/**
 * The TRE_G15 profession with this code, or undefined.
 *
 * @example
 * professionByCode('60'); // { code: '60', label: 'Infirmier', active: true }
 */
export function professionByCode(code: string): Readonly<Profession> | undefined {
  return load().professions.get(code);
}

/**
 * The TRE_R38 specialty with this code, or undefined.
 *
 * @example
 * specialtyByCode('SM26'); // { code: 'SM26', label: 'Qualifié en Médecine générale (SM)', professionCode: '10', active: true }
 */
export function specialtyByCode(code: string): Readonly<Specialty> | undefined {
  return load().specialties.get(code);
}

/**
 * Whether the code is in TRE_G15 (obsolete codes included).
 *
 * @example
 * isKnownProfession('10'); // true
 */
export function isKnownProfession(code: string): boolean {
  return load().professions.has(code);
}

/**
 * Whether the code is in TRE_R38 (deprecated codes included); when `professionCode` is given, the
 * specialty must also belong to that profession.
 *
 * @example
 * isKnownSpecialty('SM26'); // true
 * isKnownSpecialty('SM26', '60'); // false: a médecin specialty, not a nurse one
 */
export function isKnownSpecialty(code: string, professionCode?: string): boolean {
  const specialty = load().specialties.get(code);
  return (
    specialty !== undefined && (professionCode === undefined || specialty.professionCode === professionCode)
  );
}

/**
 * Every TRE_G15 profession, in nomenclature order.
 *
 * @example
 * listProfessions().filter((p) => p.active).length; // 29
 */
export function listProfessions(): Array<Readonly<Profession>> {
  return [...load().professions.values()];
}

/**
 * The TRE_R38 specialties of one profession (all of them without argument), in nomenclature order.
 *
 * @example
 * listSpecialties('40').map((s) => s.code); // ['SCD01', 'SCD02', 'SCD03']
 */
export function listSpecialties(professionCode?: string): Array<Readonly<Specialty>> {
  const all = [...load().specialties.values()];
  return professionCode === undefined ? all : all.filter((s) => s.professionCode === professionCode);
}
