import { describe, expect, it } from 'vitest';
import {
  PROFESSION_CODES,
  PROFESSION_SYSTEM,
  SPECIALTY_SYSTEM,
  isKnownProfession,
  isKnownSpecialty,
  listProfessions,
  listSpecialties,
  professionByCode,
  specialtyByCode,
} from './professions.ts';

describe('TRE_G15 professions', () => {
  it.each([
    ['10', 'Médecin'],
    ['21', 'Pharmacien'],
    ['40', 'Chirurgien-Dentiste'],
    ['50', 'Sage-Femme'],
    ['60', 'Infirmier'],
    ['70', 'Masseur-Kinésithérapeute'],
    ['98', 'Manipulateur ERM'],
  ])('%s is %s', (code, label) => {
    expect(professionByCode(code)).toEqual({ code, label, active: true });
    expect(isKnownProfession(code)).toBe(true);
  });

  it('keeps the obsolete psychologist code as known but inactive', () => {
    expect(professionByCode('93')).toEqual({ code: '93', label: 'Psychologue', active: false });
    expect(isKnownProfession('93')).toBe(true);
  });

  it.each(['', '11', '010', 'SM26', ' 10'])('%j is unknown', (code) => {
    expect(professionByCode(code)).toBeUndefined();
    expect(isKnownProfession(code)).toBe(false);
  });

  it('lists 30 professions, 29 active', () => {
    const all = listProfessions();
    expect(all).toHaveLength(30);
    expect(all.filter((p) => p.active)).toHaveLength(29);
  });

  it('names the codes the rules use', () => {
    for (const code of Object.values(PROFESSION_CODES)) expect(isKnownProfession(code)).toBe(true);
  });

  it('returns frozen records so the cache cannot be corrupted', () => {
    const doctor = professionByCode('10');
    expect(Object.isFrozen(doctor)).toBe(true);
  });
});

describe('TRE_R38 specialties', () => {
  it.each([
    ['SM26', 'Qualifié en Médecine générale (SM)', '10', true],
    ['SM54', undefined, '10', true],
    ['SCD01', 'Orthopédie dento-faciale (SCD)', '40', true],
    ['SI08', 'Infirmier(ère) puériculteur(trice)', '60', true],
    ['SP01', 'Radio-pharmacie (SP)', '21', false],
  ])('%s', (code, label, professionCode, active) => {
    const specialty = specialtyByCode(code);
    expect(specialty).toMatchObject({ code, professionCode, active });
    if (label !== undefined) expect(specialty?.label).toBe(label);
    expect(isKnownSpecialty(code)).toBe(true);
    expect(isKnownSpecialty(code, professionCode)).toBe(true);
  });

  it('checks the profession when asked', () => {
    expect(isKnownSpecialty('SM26', '60')).toBe(false);
    expect(isKnownSpecialty('SI01', '10')).toBe(false);
  });

  it.each(['', 'SM00', 'SM96', 'sm26', '26'])('%j is unknown', (code) => {
    expect(specialtyByCode(code)).toBeUndefined();
    expect(isKnownSpecialty(code)).toBe(false);
  });

  it('has 110 specialties, each attached to a known profession', () => {
    const all = listSpecialties();
    expect(all).toHaveLength(110);
    for (const s of all) expect(isKnownProfession(s.professionCode)).toBe(true);
  });

  it('lists specialties per profession', () => {
    expect(listSpecialties('40').map((s) => s.code)).toEqual(['SCD01', 'SCD02', 'SCD03']);
    expect(listSpecialties('10')).toHaveLength(95);
    expect(listSpecialties('50')).toEqual([]);
  });

  it('exposes the FHIR systems', () => {
    expect(PROFESSION_SYSTEM).toBe(
      'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante',
    );
    expect(SPECIALTY_SYSTEM).toBe(
      'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale',
    );
  });
});
