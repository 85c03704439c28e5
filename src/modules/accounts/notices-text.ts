/**
 * The words of account notices (DOMAIN §2): French first, English when the person chose it. Plain
 * language, no medical detail. Pure functions: the service fills in the facts.
 */

export type NoticeKind =
  'provisioning' | 'code_reissued' | 'suspension' | 'closure' | 'reopening' | 'majority' | 'opposition';

export const NOTICE_KINDS: readonly NoticeKind[] = [
  'provisioning',
  'code_reissued',
  'suspension',
  'closure',
  'reopening',
  'majority',
  'opposition',
];

export interface NoticeFacts {
  readonly name: string;
  readonly baseUrl: string;
  readonly code?: string;
  readonly oppositionDeadline?: Date | null;
  readonly suspensionDeadline?: Date | null;
  readonly eraseAfter?: Date | null;
}

export interface NoticeText {
  readonly subject: string;
  readonly title: string;
  readonly paragraphs: string[];
  readonly highlight?: string;
  readonly after: string[];
}

function day(language: 'fr' | 'en', at: Date): string {
  return new Intl.DateTimeFormat(language === 'en' ? 'en-GB' : 'fr-FR', {
    dateStyle: 'long',
    timeZone: 'Europe/Paris',
  }).format(at);
}

const WHAT_FR =
  "Carnet est votre espace numérique de santé : il rassemble vos documents de santé (comptes rendus, résultats d'examens, ordonnances…) et vous laisse choisir qui peut les consulter. Il est gratuit et vos données sont hébergées de façon sécurisée.";
const WHAT_EN =
  'Carnet is your digital health space: it gathers your health documents (reports, test results, prescriptions…) and lets you choose who may read them. It is free and your data is stored securely.';

function activationFr(f: NoticeFacts): string[] {
  return [
    `Pour activer votre espace, rendez-vous sur ${f.baseUrl} et saisissez : le code provisoire ci-dessous, votre numéro de sécurité sociale (matricule, 15 caractères) et le numéro de série de votre carte Vitale. Vous choisirez ensuite votre mot de passe et un second moyen de vous identifier.`,
  ];
}

function activationEn(f: NoticeFacts): string[] {
  return [
    `To activate your space, go to ${f.baseUrl} and enter: the provisional code below, your social security number (matricule, 15 characters) and the serial number of your health card (carte Vitale). You will then choose your password and a second way to prove it is you.`,
  ];
}

const CODE_SAFETY_FR =
  "Ce code est personnel et ne sert qu'une seule fois. Carnet ne vous le demandera jamais par téléphone ni par e-mail.";
const CODE_SAFETY_EN =
  'This code is personal and works only once. Carnet will never ask you for it by phone or e-mail.';

function french(kind: NoticeKind, f: NoticeFacts): NoticeText {
  const hello = `Bonjour ${f.name},`;
  const withCode = f.code !== undefined;
  const code = withCode ? { highlight: f.code } : {};
  switch (kind) {
    case 'provisioning': {
      const deadline = f.oppositionDeadline ? day('fr', f.oppositionDeadline) : undefined;
      return {
        subject: 'Votre espace santé Carnet',
        title: 'Votre espace santé Carnet',
        paragraphs: [
          hello,
          WHAT_FR,
          deadline
            ? `Votre espace sera créé automatiquement le ${deadline}, sauf si vous vous y opposez avant cette date. Vous avez 6 semaines pour le faire.`
            : 'Votre espace sera créé automatiquement dans 6 semaines, sauf si vous vous y opposez avant.',
          ...(withCode ? activationFr(f) : []),
        ],
        ...code,
        after: [
          `Vous ne souhaitez pas d'espace ? Rendez-vous sur ${f.baseUrl}, rubrique « Je m'oppose à la création de mon espace », avec ce code, votre numéro de sécurité sociale et votre date de naissance. Vous recevrez une attestation d'opposition. Vous pourrez changer d'avis plus tard.`,
          ...(withCode ? [CODE_SAFETY_FR] : []),
        ],
      };
    }
    case 'code_reissued':
      return {
        subject: 'Votre nouveau code provisoire Carnet',
        title: 'Votre nouveau code provisoire',
        paragraphs: [
          hello,
          'Un nouveau code provisoire vous a été attribué ; les codes précédents ne fonctionnent plus.',
          ...(withCode ? activationFr(f) : []),
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_FR] : [],
      };
    case 'suspension': {
      const deadline = f.suspensionDeadline ? day('fr', f.suspensionDeadline) : undefined;
      return {
        subject: 'Votre espace Carnet est suspendu',
        title: 'Suspension de votre espace',
        paragraphs: [
          hello,
          "Votre espace Carnet a été suspendu par nos services, à la suite d'une anomalie constatée sur son utilisation. Personne ne peut plus le consulter pour l'instant.",
          deadline
            ? `Sans réponse de votre part d'ici le ${deadline}, votre espace sera fermé. Pour nous répondre, contactez le service d'assistance de Carnet depuis ${f.baseUrl}.`
            : `Sans réponse de votre part dans les 6 semaines, votre espace sera fermé. Pour nous répondre, contactez le service d'assistance de Carnet depuis ${f.baseUrl}.`,
        ],
        after: [],
      };
    }
    case 'closure': {
      const erase = f.eraseAfter ? day('fr', f.eraseAfter) : undefined;
      return {
        subject: 'Votre espace Carnet est fermé',
        title: 'Fermeture de votre espace',
        paragraphs: [
          hello,
          'Votre espace Carnet est fermé. Ses données sont archivées : plus aucun professionnel de santé ne peut les consulter.',
          erase
            ? `Elles seront supprimées définitivement le ${erase}. D'ici là, vous pouvez rouvrir votre espace et tout retrouver depuis ${f.baseUrl}.`
            : `Vous pouvez rouvrir votre espace et tout retrouver depuis ${f.baseUrl}.`,
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_FR] : [],
      };
    }
    case 'reopening':
      return {
        subject: 'Votre espace Carnet est rouvert',
        title: 'Réouverture de votre espace',
        paragraphs: [
          hello,
          'Votre espace Carnet est rouvert : vous retrouvez vos documents et vos réglages. Les professionnels de santé y ont de nouveau accès selon vos choix.',
          ...(withCode ? activationFr(f) : [`Connectez-vous sur ${f.baseUrl}.`]),
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_FR] : [],
      };
    case 'majority':
      return {
        subject: 'Vous avez 18 ans : votre espace Carnet est à vous',
        title: 'Votre espace est maintenant à vous',
        paragraphs: [
          hello,
          "Vous avez 18 ans : votre espace santé Carnet est désormais le vôtre. Vos représentants légaux n'y ont plus accès.",
          WHAT_FR,
          ...(withCode ? activationFr(f) : [`Activez votre espace sur ${f.baseUrl}.`]),
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_FR] : [],
      };
    case 'opposition':
      return {
        subject: 'Votre opposition à Carnet est enregistrée',
        title: 'Opposition enregistrée',
        paragraphs: [
          hello,
          "Nous avons bien enregistré votre opposition : aucun espace Carnet ne sera créé pour vous. Vous pouvez télécharger l'attestation d'opposition sur " +
            `${f.baseUrl}.`,
          'Si vous changez d’avis, vous pourrez activer votre espace à tout moment.',
          ...(withCode ? activationFr(f) : []),
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_FR] : [],
      };
  }
}

function english(kind: NoticeKind, f: NoticeFacts): NoticeText {
  const hello = `Hello ${f.name},`;
  const withCode = f.code !== undefined;
  const code = withCode ? { highlight: f.code } : {};
  switch (kind) {
    case 'provisioning': {
      const deadline = f.oppositionDeadline ? day('en', f.oppositionDeadline) : undefined;
      return {
        subject: 'Your Carnet health space',
        title: 'Your Carnet health space',
        paragraphs: [
          hello,
          WHAT_EN,
          deadline
            ? `Your space will be created automatically on ${deadline}, unless you object before that date. You have 6 weeks to do so.`
            : 'Your space will be created automatically in 6 weeks, unless you object before then.',
          ...(withCode ? activationEn(f) : []),
        ],
        ...code,
        after: [
          `You do not want a space? Go to ${f.baseUrl}, section "I object to the creation of my space", with this code, your social security number and your date of birth. You will receive a proof of objection. You may change your mind later.`,
          ...(withCode ? [CODE_SAFETY_EN] : []),
        ],
      };
    }
    case 'code_reissued':
      return {
        subject: 'Your new Carnet provisional code',
        title: 'Your new provisional code',
        paragraphs: [
          hello,
          'A new provisional code was issued for you; previous codes no longer work.',
          ...(withCode ? activationEn(f) : []),
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_EN] : [],
      };
    case 'suspension': {
      const deadline = f.suspensionDeadline ? day('en', f.suspensionDeadline) : undefined;
      return {
        subject: 'Your Carnet space is suspended',
        title: 'Your space is suspended',
        paragraphs: [
          hello,
          'Your Carnet space was suspended by our services after an anomaly in its use. Nobody can read it for now.',
          `Without an answer from you ${deadline ? `by ${deadline}` : 'within 6 weeks'}, your space will be closed. To answer, contact Carnet support from ${f.baseUrl}.`,
        ],
        after: [],
      };
    }
    case 'closure': {
      const erase = f.eraseAfter ? day('en', f.eraseAfter) : undefined;
      return {
        subject: 'Your Carnet space is closed',
        title: 'Your space is closed',
        paragraphs: [
          hello,
          'Your Carnet space is closed. Its data is archived: no health professional can read it any more.',
          `${erase ? `It will be erased for good on ${erase}. Until then, you` : 'You'} can reopen your space and find everything again from ${f.baseUrl}.`,
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_EN] : [],
      };
    }
    case 'reopening':
      return {
        subject: 'Your Carnet space is reopened',
        title: 'Your space is reopened',
        paragraphs: [
          hello,
          'Your Carnet space is reopened: your documents and settings are back. Health professionals may read it again as you chose.',
          ...(withCode ? activationEn(f) : [`Sign in at ${f.baseUrl}.`]),
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_EN] : [],
      };
    case 'majority':
      return {
        subject: 'You are 18: your Carnet space is yours',
        title: 'Your space is now yours',
        paragraphs: [
          hello,
          'You are 18: your Carnet health space is now yours alone. Your legal representatives no longer have access.',
          WHAT_EN,
          ...(withCode ? activationEn(f) : [`Activate your space at ${f.baseUrl}.`]),
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_EN] : [],
      };
    case 'opposition':
      return {
        subject: 'Your objection to Carnet is recorded',
        title: 'Objection recorded',
        paragraphs: [
          hello,
          `We recorded your objection: no Carnet space will be created for you. You can download the proof of objection at ${f.baseUrl}.`,
          'If you change your mind, you can activate your space at any time.',
          ...(withCode ? activationEn(f) : []),
        ],
        ...code,
        after: withCode ? [CODE_SAFETY_EN] : [],
      };
  }
}

/** The text of a notice of `kind` in `language`. */
export function noticeText(kind: NoticeKind, language: 'fr' | 'en', facts: NoticeFacts): NoticeText {
  return language === 'en' ? english(kind, facts) : french(kind, facts);
}

/** The text as a plain e-mail body. */
export function noticeMailBody(text: NoticeText, language: 'fr' | 'en'): string {
  const code = text.highlight
    ? [`${language === 'en' ? 'Your provisional code:' : 'Votre code provisoire :'} ${text.highlight}`, '']
    : [];
  return [...text.paragraphs.flatMap((p) => [p, '']), ...code, ...text.after.flatMap((p) => [p, ''])]
    .join('\n')
    .trimEnd()
    .concat('\n');
}
