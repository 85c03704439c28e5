import { describe, expect, it } from 'vitest';
import {
  CLASS_CODES,
  LOINC_SYSTEM,
  TRE_A03_SYSTEM,
  TRE_A05_SYSTEM,
  TRE_A07_SYSTEM,
  VAULT_CATEGORIES,
  categoryForClass,
  categoryForType,
  classForType,
  dmpDocumentTypes,
  documentClasses,
  isDmpType,
  isKnownType,
  isVaultCategory,
  typeDisplay,
  visibilityStatuses,
} from './nomenclature.ts';

describe('documentClasses (TRE_A03)', () => {
  it('has the 11 DMP classes in code order', () => {
    expect(documentClasses().map((c) => c.code)).toEqual([
      '10',
      '11',
      '31',
      '42',
      '43',
      '44',
      '45',
      '52',
      '60',
      '90',
      '95',
    ]);
  });

  it('matches CLASS_CODES one for one', () => {
    expect(Object.values(CLASS_CODES).sort()).toEqual(documentClasses().map((c) => c.code));
  });

  it('keeps labels with commas intact', () => {
    expect(documentClasses().find((c) => c.code === '44')?.label).toBe('Plan de soins, protocole de soins');
  });

  it('is loaded once', () => {
    expect(documentClasses()).toBe(documentClasses());
  });
});

describe('type codes', () => {
  it.each([
    // system as FHIR URL, urn:oid and bare OID
    [LOINC_SYSTEM, '11488-4', '10', 'CR ou fiche de consultation ou de visite'],
    ['urn:oid:2.16.840.1.113883.6.1', '11502-2', '10', "CR d'examens biologiques"],
    ['2.16.840.1.113883.6.1', '18748-4', '31', "CR d'imagerie médicale"],
    [LOINC_SYSTEM, '34133-9', '11', "Synthèse d'épisode de soins"],
    [LOINC_SYSTEM, '57833-6', '42', 'Prescription de produits de santé'],
    [LOINC_SYSTEM, '60593-1', '43', 'Dispensation médicamenteuse'],
    [LOINC_SYSTEM, '80565-5', '45', "CR d'administration de médicaments"],
    [TRE_A05_SYSTEM, 'REMB', '60', 'Données de remboursement'],
    ['urn:oid:1.2.250.1.213.1.1.4.12', 'DOCPAT04', '31', 'Imagerie déposée par le patient'],
    [TRE_A05_SYSTEM, 'ATTEST-RESID', '95', 'Attestation de résidence'],
    // only in ASS_X04 (retired LOINC)
    [LOINC_SYSTEM, '11528-7', '10', "CR d'imagerie médicale"],
    // only in ASS_X16 (retired in TRE_A04, still accepted by the DMP)
    [LOINC_SYSTEM, '11526-1', '10', "CR d'anatomie et de cytologie pathologiques"],
  ])('%s|%s → class %s', (system, code, classCode, label) => {
    expect(classForType(system, code)).toBe(classCode);
    expect(typeDisplay(system, code)).toBe(label);
    expect(isKnownType(system, code)).toBe(true);
  });

  it('knows JDV_J07 types without a DMP class', () => {
    expect(isKnownType(LOINC_SYSTEM, '28617-9')).toBe(true);
    expect(typeDisplay(LOINC_SYSTEM, '28617-9')).toBe('Bilan bucco-dentaire');
    expect(classForType(LOINC_SYSTEM, '28617-9')).toBeUndefined();
  });

  it('ignores class codes outside TRE_A03 (99 for a style sheet)', () => {
    expect(isKnownType(TRE_A05_SYSTEM, 'FEUILLE-DE-STYLE')).toBe(true);
    expect(classForType(TRE_A05_SYSTEM, 'FEUILLE-DE-STYLE')).toBeUndefined();
  });

  it('falls back to a later table for the label when the first has none', () => {
    // DOCPAT10 is only in ASS_X04, without a label.
    expect(classForType(TRE_A05_SYSTEM, 'DOCPAT10')).toBe('90');
    expect(typeDisplay(TRE_A05_SYSTEM, 'DOCPAT10')).toBeUndefined();
  });

  it.each([
    [LOINC_SYSTEM, '00000-0'],
    [LOINC_SYSTEM, 'REMB'], // right code, wrong system
    [TRE_A05_SYSTEM, '11488-4'],
    ['http://snomed.info/sct', '11488-4'],
    [TRE_A03_SYSTEM, '10'],
    ['ASTM', 'E1762'],
    ['', ''],
  ])('%s|%s is unknown', (system, code) => {
    expect(isKnownType(system, code)).toBe(false);
    expect(classForType(system, code)).toBeUndefined();
    expect(typeDisplay(system, code)).toBeUndefined();
  });

  it('tells DMP types from other CI-SIS types', () => {
    expect(isDmpType(LOINC_SYSTEM, '11488-4')).toBe(true);
    expect(isDmpType(TRE_A05_SYSTEM, 'DOCPAT08')).toBe(true);
    expect(isDmpType(LOINC_SYSTEM, '51851-4')).toBe(false);
    expect(isKnownType(LOINC_SYSTEM, '51851-4')).toBe(true);
    expect(isDmpType('urn:oid:1.2.250.1.213.1.1.4.12', 'PIECE-IDENTITE')).toBe(false);
  });

  it('lists the 102 DMP types, each with one of the 11 classes', () => {
    const types = dmpDocumentTypes();
    const classes = new Set(documentClasses().map((c) => c.code));
    expect(types).toHaveLength(102);
    expect(types.filter((t) => t.system === LOINC_SYSTEM)).toHaveLength(71);
    for (const t of types) {
      expect(classes.has(t.classCode)).toBe(true);
      expect(isDmpType(t.system, t.code)).toBe(true);
    }
    // Every class is used by at least one DMP type.
    expect(new Set(types.map((t) => t.classCode))).toEqual(classes);
  });
});

describe('visibilityStatuses (TRE_A07)', () => {
  it('lists the five statuses', () => {
    expect(visibilityStatuses().map((s) => s.code)).toEqual([
      'INVISIBLE_PATIENT',
      'INVISIBLE_REPRESENTANTS_LEGAUX',
      'MASQUE_PS',
      'MASQUE_PSOCIAL',
      'MASQUE_PT',
    ]);
    expect(TRE_A07_SYSTEM).toContain('TRE_A07-StatutVisibiliteDocument');
  });
});

describe('vault categories', () => {
  it('has the 15 MES categories with unique slugs and MES codes', () => {
    expect(VAULT_CATEGORIES).toHaveLength(15);
    expect(new Set(VAULT_CATEGORIES.map((c) => c.slug)).size).toBe(15);
    expect(new Set(VAULT_CATEGORIES.map((c) => c.mesCode)).size).toBe(15);
    for (const c of VAULT_CATEGORIES) {
      expect(c.label.fr).not.toBe('');
      expect(c.label.en).not.toBe('');
    }
  });

  it('files patient uploads under DMP types that land back in the same category', () => {
    for (const c of VAULT_CATEGORIES) {
      if (c.patientType === undefined) continue;
      expect(isDmpType(c.patientType.system, c.patientType.code)).toBe(true);
      expect(categoryForType(c.patientType.system, c.patientType.code)).toBe(c.slug);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(VAULT_CATEGORIES)).toBe(true);
    expect(Object.isFrozen(VAULT_CATEGORIES[0])).toBe(true);
    expect(Object.isFrozen(VAULT_CATEGORIES[0]?.label)).toBe(true);
  });

  it('has no patient upload type for vaccinations and reimbursements', () => {
    const without = VAULT_CATEGORIES.filter((c) => c.patientType === undefined).map((c) => c.slug);
    expect(without).toEqual(['vaccinations', 'reimbursements']);
  });

  it.each(['summary', 'profile-synthesis', 'questionnaires'])('isVaultCategory(%s)', (slug) => {
    expect(isVaultCategory(slug)).toBe(true);
  });

  it.each(['', 'Summary', 'SYNTHESE', 'lab'])('not a category: %j', (value) => {
    expect(isVaultCategory(value)).toBe(false);
  });
});

describe('categoryForClass', () => {
  it.each([
    ['10', undefined, 'reports'],
    ['10', '11488-4', 'reports'],
    ['10', '11502-2', 'biology'],
    ['10', '60568-3', 'reports'],
    ['10', '51969-4', 'biology'],
    ['10', '11528-7', 'imaging'],
    ['10', '75492-9', 'prevention'],
    ['10', '59283-2', 'prevention'],
    ['11', undefined, 'summary'],
    ['11', '34133-9', 'summary'],
    ['11', '68817-6', 'prevention'],
    ['11', 'DOCPAT08', 'profile-synthesis'],
    ['31', '18748-4', 'imaging'],
    ['42', '57833-6', 'prescriptions'],
    ['43', '60593-1', 'prescriptions'],
    ['44', '18776-5', 'prescriptions'],
    ['44', '83869-8', 'prevention'],
    ['45', undefined, 'prescriptions'],
    ['52', '89601-9', 'certificates'],
    ['52', '11369-6', 'vaccinations'],
    ['52', '96874-3', 'vaccinations'],
    ['52', '96173-0', 'biology'],
    ['60', 'REMB', 'reimbursements'],
    ['90', undefined, 'other'],
    ['90', 'EXPPAT_1', 'wishes'],
    ['90', 'EXPPAT_2', 'other'],
    ['90', 'EXPPAT_3', 'advance-directives'],
    ['90', '74465-6', 'questionnaires'],
    ['95', 'ATTEST-DROITS-AM', 'administrative'],
    ['99', undefined, 'other'],
    ['', undefined, 'other'],
  ])('class %s, type %s → %s', (classCode, typeCode, category) => {
    expect(categoryForClass(classCode, typeCode)).toBe(category);
  });

  it('maps every DMP type to a category', () => {
    for (const t of dmpDocumentTypes()) {
      expect(isVaultCategory(categoryForClass(t.classCode, t.code))).toBe(true);
    }
  });
});

describe('categoryForType', () => {
  it.each([
    [LOINC_SYSTEM, '11502-2', 'biology'],
    [LOINC_SYSTEM, '18748-4', 'imaging'],
    [LOINC_SYSTEM, '34133-9', 'summary'],
    [TRE_A05_SYSTEM, 'PRESC-KINE', 'prescriptions'],
    [TRE_A05_SYSTEM, 'REMB', 'reimbursements'],
    [TRE_A05_SYSTEM, 'EXPPAT_3', 'advance-directives'],
    [LOINC_SYSTEM, '00000-0', 'other'],
    ['http://snomed.info/sct', '11502-2', 'other'],
  ])('%s|%s → %s', (system, code, category) => {
    expect(categoryForType(system, code)).toBe(category);
  });
});
