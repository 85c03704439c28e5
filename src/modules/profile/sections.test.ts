import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { canonical, changedFields, lockReason } from './profile.ts';
import { SECTION_KIND, SECTIONS, validateFields } from './sections.ts';

describe('sections', () => {
  it('covers the twelve sections of DOMAIN §6; three hold a single value', () => {
    expect(SECTIONS).toHaveLength(12);
    expect(SECTIONS.filter((s) => SECTION_KIND[s] === 'single').sort()).toEqual([
      'advance-directives',
      'blood-group',
      'organ-donation',
    ]);
  });

  it.each([
    ['blood-group', { abo: 'O', rhesus: 'negative', extra: 1 }, 'fields.extra'],
    ['blood-group', { abo: 'O' }, 'fields.rhesus'],
    ['allergies', { substance: { text: '' } }, 'fields.substance.text'],
    [
      'allergies',
      { substance: { text: 'x', coding: { system: 's', code: 'c', foo: 1 } } },
      'fields.substance.coding.foo',
    ],
    ['lifestyle', { topic: 'gaming', description: 'x' }, 'fields.topic'],
  ] as const)('%s %j is refused on %s', (section, fields, field) => {
    let error: unknown;
    try {
      validateFields(section, fields);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'invalid_input', field });
  });

  it('fills defaults', () => {
    expect(validateFields('allergies', { substance: { text: 'Pollen' } })).toEqual({
      substance: { text: 'Pollen' },
      kind: 'allergy',
    });
  });
});

describe('rules', () => {
  const actor = { kind: 'patient', patientId: 'p', display: 'P', sessionId: 's' } as const;
  it.each([
    ['patient', null],
    ['representative', null],
    ['app', null],
    ['professional', /professional/],
    ['import', /Imported/],
  ] as const)('an entry by %s is locked for the patient: %s', (kind, reason) => {
    const result = lockReason(actor, { kind, id: 'x', display: 'X' });
    if (reason) expect(result).toMatch(reason);
    else expect(result).toBeNull();
  });

  it('compares fields whatever their key order', () => {
    expect(canonical({ b: 1, a: { d: 2, c: 3 } })).toBe(canonical({ a: { c: 3, d: 2 }, b: 1 }));
    expect(changedFields({ a: 1, b: { x: 1, y: 2 } }, { b: { y: 2, x: 1 }, c: 3 })).toEqual(['a', 'c']);
  });
});
