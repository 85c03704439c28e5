import { describe, expect, it } from 'vitest';
import { AppError } from '../../errors.ts';
import { decodeWords } from './email.ts';
import { NEW_DOCUMENTS_WINDOW_MINUTES, notificationFor } from './enqueue.ts';
import {
  CHANNELS,
  checkPreferenceChanges,
  isChannelEnabled,
  NOTIFICATION_TYPES,
  parseNotificationData,
  preferenceGrid,
  type NotificationData,
  type NotificationType,
} from './notification.ts';
import { renderNotification, TEMPLATES } from './templates.ts';

const ID = '0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8a';
const OTHER_ID = '0192f0c4-8f3a-7c1e-9a4b-3f2d1e0c9b8b';
const AT = '2026-03-04T09:15:00.000Z';

/** One valid data object per type, every optional field filled, each value distinct and recognisable. */
const FULL: { [T in NotificationType]: NotificationData<T> } = {
  professional_access: {
    professionalId: ID,
    professionalDisplay: 'Dr Zoé Sentinel-Display',
    professionLabel: 'Sentinel-Profession',
    accessedAt: AT,
  },
  emergency_access: {
    professionalId: ID,
    professionalDisplay: 'Dr Zoé Sentinel-Display',
    professionLabel: 'Sentinel-Profession',
    mode: 'break_glass',
    accessedAt: AT,
    until: '2026-03-05T09:15:00.000Z',
  },
  document_added: { documentId: ID },
  document_changed: { documentId: ID },
  message: { messageId: ID },
  appointment: { appointmentId: ID, startsAt: '2026-04-01T07:30:00.000Z' },
  prevention_due: { itemId: ID },
  apps_recap: { appCount: 3, periodDays: 90 },
  document_release_pending: { documentId: ID, releaseAt: '2026-05-01T10:00:00.000Z' },
};

describe('notification data', () => {
  it.each(NOTIFICATION_TYPES)('%s: accepts its own fields', (type) => {
    expect(parseNotificationData(type, FULL[type])).toEqual(FULL[type]);
  });

  it.each(NOTIFICATION_TYPES)('%s: refuses any other field (a title, a document type, a content)', (type) => {
    for (const extra of [
      { title: 'Compte rendu de coloscopie' },
      { typeCode: '11502-2' },
      { content: 'x' },
    ]) {
      expect(() => parseNotificationData(type, { ...FULL[type], ...extra })).toThrow(AppError);
    }
  });

  it.each([
    ['professional_access', { ...FULL.professional_access, professionalDisplay: 'Dr X\nBcc: someone' }],
    ['professional_access', { ...FULL.professional_access, accessedAt: 'yesterday' }],
    ['document_added', { documentId: 'not-an-id' }],
    ['apps_recap', { appCount: -1, periodDays: 90 }],
  ] as const)('%s: refuses malformed values', (type, data) => {
    expect(() => parseNotificationData(type, data)).toThrow(/not allowed/);
  });
});

describe('templates carry no medical detail', () => {
  const LANGS = ['fr', 'en'] as const;
  const cases = NOTIFICATION_TYPES.flatMap((type) => LANGS.map((lang) => [type, lang] as const));

  it.each(cases)('%s (%s) shows only the fields it declares, never an id', (type, lang) => {
    const data = FULL[type] as Record<string, unknown>;
    const text = renderNotification(type, FULL[type] as never, lang);
    const all = `${text.title}\n${text.body}`;
    expect(text.title.length).toBeGreaterThan(0);
    expect(text.body.length).toBeLessThan(300);
    const shows = TEMPLATES[type].shows as readonly string[];
    for (const [field, value] of Object.entries(data)) {
      if (typeof value !== 'string' || shows.includes(field)) continue;
      expect(all, `${type}.${field} must not appear`).not.toContain(value);
    }
    expect(all).not.toContain(ID);
    // Every field it shows is a declared, allowed field of the type.
    for (const field of shows) expect(Object.keys(data)).toContain(field);
  });

  it('a template shows identities only for accesses', () => {
    for (const type of NOTIFICATION_TYPES) {
      const shows = TEMPLATES[type].shows as readonly string[];
      if (shows.includes('professionalDisplay'))
        expect(['professional_access', 'emergency_access']).toContain(type);
    }
  });

  it('renders in French by default wording and in English, with Paris time', () => {
    const fr = renderNotification('professional_access', FULL.professional_access, 'fr');
    expect(fr.body).toBe(
      'Dr Zoé Sentinel-Display (Sentinel-Profession) a consulté votre dossier le 4 mars 2026 à 10:15.',
    );
    const en = renderNotification('professional_access', FULL.professional_access, 'en');
    expect(en.body).toBe(
      'Dr Zoé Sentinel-Display (Sentinel-Profession) accessed your record on 4 March 2026 at 10:15.',
    );
    expect(renderNotification('apps_recap', { appCount: 1, periodDays: 90 }, 'fr').body).toMatch(
      /^1 application connectée a accès/,
    );
    expect(renderNotification('document_release_pending', { documentId: ID }, 'en').body).toMatch(
      /soon be visible/,
    );
  });
});

describe('preferences', () => {
  it('everything is on by default, over every type and channel', () => {
    const grid = preferenceGrid([]);
    expect(grid).toHaveLength(NOTIFICATION_TYPES.length * CHANNELS.length);
    expect(grid.every((c) => c.enabled)).toBe(true);
    expect(grid.filter((c) => c.mandatory).map((c) => c.type)).toEqual(
      expect.arrayContaining(['professional_access', 'emergency_access']),
    );
  });

  it.each([
    ['professional_access', 'email'],
    ['professional_access', 'in_app'],
    ['emergency_access', 'push'],
  ] as const)('turning off %s on %s is refused with the reason', (type, channel) => {
    expect(() => checkPreferenceChanges([{ type, channel, enabled: false }])).toThrow(/cannot be turned off/);
  });

  it('turning other types off is accepted; the same cell twice is not', () => {
    expect(checkPreferenceChanges([{ type: 'message', channel: 'email', enabled: false }])).toHaveLength(1);
    expect(() =>
      checkPreferenceChanges([
        { type: 'message', channel: 'email', enabled: false },
        { type: 'message', channel: 'email', enabled: true },
      ]),
    ).toThrow(/twice/);
  });

  it.each([
    { type: 'message', mandatory: false, stored: false, expected: false },
    { type: 'message', mandatory: false, stored: undefined, expected: true },
    { type: 'message', mandatory: true, stored: false, expected: true },
    { type: 'professional_access', mandatory: false, stored: false, expected: true },
  ] as const)('isChannelEnabled %j', ({ type, mandatory, stored, expected }) => {
    const prefs = stored === undefined ? [] : [{ type, channel: 'email' as const, enabled: stored }];
    expect(isChannelEnabled(type, mandatory, 'email', prefs)).toBe(expected);
    expect(isChannelEnabled(type, mandatory, 'in_app', prefs)).toBe(true);
  });
});

describe('domain events → notifications', () => {
  const at = new Date(AT);
  const patientId = ID;

  it('a professional access names who and when, and coalesces per session', () => {
    const n = notificationFor(
      {
        type: 'record.accessed',
        patientId,
        data: { professionalId: ID, display: 'Dr A', professionCode: '60', emergency: false },
      },
      at,
    );
    expect(n).toMatchObject({
      type: 'professional_access',
      data: { professionalDisplay: 'Dr A', professionLabel: 'Infirmier', accessedAt: AT },
    });
    const later = notificationFor(
      {
        type: 'record.accessed',
        patientId,
        data: { professionalId: ID, display: 'Dr A', professionCode: '60', emergency: false },
      },
      new Date(at.getTime() + 2 * 3600_000),
    );
    expect(n?.coalesceKey).toBeDefined();
    expect(later?.coalesceKey).not.toBe(n?.coalesceKey);
  });

  it('an emergency read and an emergency opening become emergency_access', () => {
    expect(
      notificationFor(
        {
          type: 'record.accessed',
          patientId,
          data: { professionalId: ID, display: 'SAMU', emergency: true },
        },
        at,
      )?.type,
    ).toBe('emergency_access');
    const opened = notificationFor(
      {
        type: 'emergency.opened',
        patientId,
        data: { professionalId: ID, display: 'Dr U', mode: 'samu', endsAt: '2026-03-05T09:15:00Z' },
      },
      at,
    );
    expect(opened).toMatchObject({
      type: 'emergency_access',
      data: { mode: 'samu', until: '2026-03-05T09:15:00.000Z' },
    });
  });

  it('document events keep only the document id (never the author or a title)', () => {
    const n = notificationFor(
      { type: 'document.added', patientId, data: { documentId: ID, authorDisplay: 'Dr Oncologue' } },
      at,
    );
    expect(n).toMatchObject({ type: 'document_added', data: { documentId: ID } });
    expect(JSON.stringify(n?.data)).not.toContain('Oncologue');
  });

  it('new documents coalesce per person per window: one notice for a batch, a new one the next window', () => {
    const added = (when: Date, documentId: string) =>
      notificationFor({ type: 'document.added', patientId, data: { documentId } }, when);
    const window = NEW_DOCUMENTS_WINDOW_MINUTES * 60_000;
    const start = new Date(Math.floor(at.getTime() / window) * window);
    const first = added(start, ID);
    const sameWindow = added(new Date(start.getTime() + window - 1), OTHER_ID);
    const nextWindow = added(new Date(start.getTime() + window), ID);
    expect(first?.coalesceKey).toBeDefined();
    expect(sameWindow?.coalesceKey).toBe(first?.coalesceKey);
    expect(nextWindow?.coalesceKey).not.toBe(first?.coalesceKey);
    // A changed document is still told each time.
    expect(
      notificationFor({ type: 'document.changed', patientId, data: { documentId: ID } }, at)?.coalesceKey,
    ).toBeUndefined();
  });

  it('the new-documents text is plural-neutral and names nothing medical', () => {
    expect(renderNotification('document_added', { documentId: ID }, 'fr')).toEqual({
      title: 'Nouveaux documents',
      body: 'De nouveaux documents ont été ajoutés à votre dossier.',
    });
    expect(renderNotification('document_added', { documentId: ID }, 'en')).toEqual({
      title: 'New documents',
      body: 'New documents have been added to your record.',
    });
  });

  it('release notices are their own type', () => {
    expect(
      notificationFor({ type: 'document.release_pending', patientId, data: { documentId: ID } }, at)?.type,
    ).toBe('document_release_pending');
  });
});

describe('mail outbox display', () => {
  it.each([
    ['=?UTF-8?Q?Acc=C3=A8s_=C3=A0_votre_dossier?=', 'Accès à votre dossier'],
    ['=?UTF-8?B?QWNjw6hzIMOgIHZvdHJl?= =?UTF-8?Q?_dossier?=', 'Accès à votre dossier'],
    ['Nouveau document', 'Nouveau document'],
  ])('decodes %s', (raw, text) => {
    expect(decodeWords(raw)).toBe(text);
  });
});
