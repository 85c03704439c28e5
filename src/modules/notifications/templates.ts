import type { Language, NotificationData, NotificationType } from './notification.ts';

/**
 * The texts of notifications, in French and English, keyed by type. Short and plain, and never a
 * medical detail: each template declares the data fields it shows (`shows`), and a test renders
 * every template with every field to check that nothing else reaches the text.
 */

export interface RenderedText {
  readonly title: string;
  readonly body: string;
}

interface Template<T extends NotificationType> {
  /** The only data fields the text may show. Ids are never shown. */
  readonly shows: ReadonlyArray<keyof NotificationData<T>>;
  readonly fr: (d: NotificationData<T>, f: Formatter) => RenderedText;
  readonly en: (d: NotificationData<T>, f: Formatter) => RenderedText;
}

interface Formatter {
  /** Date and time, in the language, Paris time. */
  at(iso: string): string;
  day(iso: string): string;
}

const TIME_ZONE = 'Europe/Paris';

function formatter(lang: Language): Formatter {
  const locale = lang === 'fr' ? 'fr-FR' : 'en-GB';
  const at = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: TIME_ZONE });
  const day = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: TIME_ZONE });
  return { at: (iso) => at.format(new Date(iso)), day: (iso) => day.format(new Date(iso)) };
}

const who = (display: string, label: string | undefined): string =>
  label ? `${display} (${label})` : display;

export const TEMPLATES: { readonly [T in NotificationType]: Template<T> } = {
  professional_access: {
    shows: ['professionalDisplay', 'professionLabel', 'accessedAt'],
    fr: (d, f) => ({
      title: 'Accès à votre dossier',
      body: `${who(d.professionalDisplay, d.professionLabel)} a consulté votre dossier le ${f.at(d.accessedAt)}.`,
    }),
    en: (d, f) => ({
      title: 'Access to your record',
      body: `${who(d.professionalDisplay, d.professionLabel)} accessed your record on ${f.at(d.accessedAt)}.`,
    }),
  },
  emergency_access: {
    shows: ['professionalDisplay', 'professionLabel', 'mode', 'accessedAt', 'until'],
    fr: (d, f) => ({
      title: 'Accès en urgence à votre dossier',
      body:
        `${who(d.professionalDisplay, d.professionLabel)} a consulté votre dossier en urgence ` +
        `(${d.mode === 'samu' ? 'régulation du SAMU' : 'accès « bris de glace »'}) le ${f.at(d.accessedAt)}.` +
        (d.until ? ` Cet accès prend fin le ${f.at(d.until)}.` : ''),
    }),
    en: (d, f) => ({
      title: 'Emergency access to your record',
      body:
        `${who(d.professionalDisplay, d.professionLabel)} accessed your record in an emergency ` +
        `(${d.mode === 'samu' ? 'emergency medical service' : 'break-glass access'}) on ${f.at(d.accessedAt)}.` +
        (d.until ? ` This access ends on ${f.at(d.until)}.` : ''),
    }),
  },
  document_added: {
    shows: [],
    fr: () => ({
      title: 'Nouveaux documents',
      body: 'De nouveaux documents ont été ajoutés à votre dossier.',
    }),
    en: () => ({ title: 'New documents', body: 'New documents have been added to your record.' }),
  },
  document_changed: {
    shows: [],
    fr: () => ({ title: 'Document mis à jour', body: 'Un document de votre dossier a été mis à jour.' }),
    en: () => ({ title: 'Document updated', body: 'A document in your record has been updated.' }),
  },
  message: {
    shows: [],
    fr: () => ({ title: 'Nouveau message', body: 'Vous avez reçu un nouveau message.' }),
    en: () => ({ title: 'New message', body: 'You have received a new message.' }),
  },
  appointment: {
    shows: ['startsAt'],
    fr: (d, f) => ({
      title: 'Rendez-vous',
      body: `Rappel : vous avez un rendez-vous le ${f.at(d.startsAt)}.`,
    }),
    en: (d, f) => ({
      title: 'Appointment',
      body: `Reminder: you have an appointment on ${f.at(d.startsAt)}.`,
    }),
  },
  prevention_due: {
    shows: [],
    fr: () => ({
      title: 'Prévention',
      body: 'Une action de prévention vous est proposée. Retrouvez-la dans votre espace.',
    }),
    en: () => ({
      title: 'Prevention',
      body: 'A prevention step is suggested for you. See it in your space.',
    }),
  },
  apps_recap: {
    shows: ['appCount', 'periodDays'],
    fr: (d) => ({
      title: 'Vos applications connectées',
      body:
        d.appCount === 0
          ? 'Aucune application connectée n’a accès à votre dossier.'
          : `${d.appCount} application${d.appCount > 1 ? 's connectées ont' : ' connectée a'} accès à votre dossier. ` +
            `Vérifiez-les (rappel tous les ${d.periodDays} jours).`,
    }),
    en: (d) => ({
      title: 'Your connected apps',
      body:
        d.appCount === 0
          ? 'No connected app has access to your record.'
          : `${d.appCount} connected app${d.appCount > 1 ? 's have' : ' has'} access to your record. ` +
            `Please review them (reminder every ${d.periodDays} days).`,
    }),
  },
  document_release_pending: {
    shows: ['releaseAt'],
    fr: (d, f) => ({
      title: 'Un document vous attend',
      body:
        (d.releaseAt
          ? `Un document a été déposé pour vous ; il sera visible dans votre dossier à partir du ${f.day(d.releaseAt)}.`
          : 'Un document a été déposé pour vous ; il sera bientôt visible dans votre dossier.') +
        ' Vous pouvez en parler avec votre professionnel de santé.',
    }),
    en: (d, f) => ({
      title: 'A document is waiting for you',
      body:
        (d.releaseAt
          ? `A document has been filed for you; it will be visible in your record from ${f.day(d.releaseAt)}.`
          : 'A document has been filed for you; it will soon be visible in your record.') +
        ' You can talk about it with your health professional.',
    }),
  },
};

/**
 * The text of a notification in the person's language.
 * @example renderNotification('document_added', { documentId }, 'fr') // { title: 'Nouveaux documents', body: '…' }
 */
export function renderNotification<T extends NotificationType>(
  type: T,
  data: NotificationData<T>,
  lang: Language,
): RenderedText {
  const template = TEMPLATES[type] as Template<T>;
  return template[lang](data, formatter(lang));
}
