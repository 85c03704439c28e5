import type { Measurement } from '../measurements/index.ts';
import { typeById } from '../measurements/index.ts';
import type { ProfileEntry, Section } from '../profile/index.ts';
import type { Vaccination } from '../vaccinations/index.ts';

/** French wording of the synthesis PDF. Pure: no I/O. */

export const SECTION_LABELS_FR: Record<Section | 'measurements' | 'vaccinations', string> = {
  allergies: 'Allergies et intolérances',
  diseases: 'Maladies et sujets de santé actuels',
  treatments: 'Traitements',
  hospitalisations: 'Hospitalisations et interventions chirurgicales',
  'family-history': 'Antécédents familiaux',
  disabilities: 'Handicaps',
  'blood-group': 'Groupe sanguin',
  lifestyle: 'Mode de vie',
  'advance-directives': 'Directives anticipées',
  'organ-donation': "Position sur le don d'organes",
  contacts: 'Contacts',
  'care-team': 'Équipe de soins',
  measurements: 'Mesures de santé (dernière valeur de chaque type)',
  vaccinations: 'Vaccinations',
};

const AUTHOR_FR: Record<string, string> = {
  patient: 'saisi par la personne',
  representative: 'saisi par un représentant',
  app: 'transmis par une application',
  professional: 'saisi par un professionnel',
  import: 'importé',
};

const RELATIONSHIP_FR: Record<string, string> = {
  mother: 'mère',
  father: 'père',
  sibling: 'frère ou sœur',
  child: 'enfant',
  grandparent: 'grand-parent',
  'uncle-aunt': 'oncle ou tante',
  cousin: 'cousin(e)',
  other: 'autre',
};

const TOPIC_FR: Record<string, string> = {
  food: 'alimentation',
  activity: 'activité physique',
  sleep: 'sommeil',
  screens: 'écrans',
  alcohol: 'alcool',
  tobacco: 'tabac',
};

const DISABILITY_FR: Record<string, string> = {
  motor: 'moteur',
  sensory: 'sensoriel',
  mental: 'mental',
  psychic: 'psychique',
  cognitive: 'cognitif',
  multiple: 'polyhandicap',
  other: 'autre',
};

const CONTACT_FR: Record<string, string> = {
  emergency: "à prévenir en cas d'urgence",
  'trusted-person': 'personne de confiance',
  caregiver: 'aidant',
  help: 'aide',
};

const frDay = (iso: string): string => {
  const [y, m, d] = iso.slice(0, 10).split('-');
  return `${d}/${m}/${y}`;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const conceptText = (v: unknown): string =>
  v && typeof v === 'object' && 'text' in v && typeof v.text === 'string' ? v.text : '';
const join = (parts: Array<string | undefined | false>): string =>
  parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join(', ');

function provenance(author: { kind: string; display: string }, at: string): string {
  return `[${AUTHOR_FR[author.kind] ?? author.kind} (${author.display}), ${frDay(at)}]`;
}

/** One line for a profile entry, with its provenance. */
export function describeProfileEntry(section: Section, e: ProfileEntry): string {
  const f = e.fields;
  const since = str(f.since) ? `depuis le ${frDay(String(f.since))}` : undefined;
  const until = str(f.until) ? `jusqu'au ${frDay(String(f.until))}` : undefined;
  let text: string;
  switch (section) {
    case 'allergies':
      text = join([
        `${f.kind === 'intolerance' ? 'Intolérance' : 'Allergie'} : ${conceptText(f.substance)}`,
        str(f.reaction) && `réaction : ${String(f.reaction)}`,
        str(f.severity) && `sévérité : ${String(f.severity)}`,
        since,
      ]);
      break;
    case 'diseases':
      text = join([
        conceptText(f.condition),
        f.status === 'resolved' ? 'guérie' : f.status === 'remission' ? 'en rémission' : 'active',
        since,
        until,
      ]);
      break;
    case 'treatments':
      text = join([
        conceptText(f.name),
        str(f.dose),
        str(f.frequency),
        str(f.reason) && `pour : ${String(f.reason)}`,
        since,
        until,
      ]);
      break;
    case 'hospitalisations':
      text = join([
        `${f.kind === 'surgery' ? 'Intervention' : 'Hospitalisation'} le ${frDay(String(f.date))} : ${conceptText(f.reason)}`,
        until,
        str(f.place),
      ]);
      break;
    case 'family-history':
      text = join([
        `${RELATIONSHIP_FR[String(f.relationship)] ?? String(f.relationship)} : ${conceptText(f.condition)}`,
        typeof f.ageAtOnset === 'number' && `à ${f.ageAtOnset} ans`,
      ]);
      break;
    case 'disabilities':
      text = join([
        `Handicap ${DISABILITY_FR[String(f.type)] ?? String(f.type)}`,
        str(f.description),
        `taux : ${String(f.rateBand)}`,
        f.humanHelp === true ? 'aide humaine nécessaire' : 'sans aide humaine',
      ]);
      break;
    case 'blood-group':
      text = `${String(f.abo)} ${f.rhesus === 'positive' ? 'Rh+' : 'Rh-'}`;
      break;
    case 'lifestyle':
      text = join([
        `${TOPIC_FR[String(f.topic)] ?? String(f.topic)} : ${String(f.description)}`,
        str(f.quantity),
      ]);
      break;
    case 'advance-directives':
      text = join([
        `Rédigées le ${frDay(String(f.writtenOn))}`,
        str(f.keptBy) && `original détenu par : ${String(f.keptBy)}`,
        str(f.summary),
      ]);
      break;
    case 'organ-donation':
      text = join([
        f.position === 'consents' ? 'Favorable' : f.position === 'refuses' ? 'Opposé(e)' : 'Indécis(e)',
        f.registeredRefusal === true && 'refus inscrit au registre national',
      ]);
      break;
    case 'contacts':
      text = join([
        `${String(f.name)} (${CONTACT_FR[String(f.role)] ?? String(f.role)})`,
        str(f.relationship),
        str(f.phone),
        str(f.email),
      ]);
      break;
    case 'care-team':
      text = join([
        String(f.name),
        String(f.role),
        str(f.organization),
        str(f.rpps) && `RPPS ${String(f.rpps)}`,
        str(f.phone),
      ]);
      break;
  }
  const note = str(f.note) ? ` — ${String(f.note)}` : '';
  return `${text}${note} ${provenance(e.author, e.updatedAt)}`;
}

/** One line for a measurement: label, value(s) and unit, date, provenance. */
export function describeMeasurement(m: Measurement): string {
  const type = typeById(m.type);
  const parts = type?.components ?? [m.type];
  const value = parts.map((p) => String(m.values[p] ?? '?')).join('/');
  const unit = m.unit === '1' || m.unit === '{score}' ? '' : ` ${m.unit}`;
  const comment = m.comment ? ` — ${m.comment}` : '';
  return `${type?.label.fr ?? m.type} : ${value}${unit} le ${frDay(m.effective)}${comment} ${provenance(m.author, m.createdAt)}`;
}

/** One line for a vaccination. */
export function describeVaccination(v: Vaccination): string {
  const kind =
    v.kind === 'primary'
      ? 'primovaccination'
      : v.kind === 'booster'
        ? 'rappel'
        : v.kind === 'catch-up'
          ? 'rattrapage'
          : undefined;
  const text = join([
    `${v.product.display} le ${frDay(v.date)}`,
    v.status === 'not-done' && 'non faite',
    kind,
    v.doseNumber ? `dose ${v.doseNumber}` : undefined,
    v.lotNumber ? `lot ${v.lotNumber}` : undefined,
    v.vaccinator ? `par ${v.vaccinator.display}` : undefined,
  ]);
  const comment = v.comment ? ` — ${v.comment}` : '';
  const confirmed = v.confirmed ? ` (confirmée par ${v.confirmed.byDisplay})` : '';
  return `${text}${comment}${confirmed} ${provenance(v.author, v.createdAt)}`;
}
