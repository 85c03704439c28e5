/**
 * A stored document as a PDSm comprehensive DocumentReference: the columns of DocumentMeta plus
 * what was kept in `extra` (facility, practice setting, events, declared authors…). Pure.
 */
import { z } from 'zod';
import {
  documentClasses,
  TRE_A03_SYSTEM,
  TRE_A07_SYSTEM,
  visibilityStatuses,
  type DocumentMeta,
} from '../modules/documents/index.ts';
import { IDNPS_SYSTEM, idnpsFromRpps, insSystem } from '../modules/identity/index.ts';
import {
  codeableConceptSchema,
  codingSchema,
  IHE_FORMAT_CODES,
  PDSM_PROFILE,
  RFC3986,
  V3_CONFIDENTIALITY,
  type FhirResource,
  type InsRef,
} from './common.ts';
import type { DeclaredParty } from './document-reference.fhir.ts';

export interface PresentOptions {
  baseUrl: string;
  patient: InsRef;
  /** RPPS of the author professional, when the author is one. */
  authorRpps: string | null;
}

const partySchema = z.object({
  resourceType: z.string().optional(),
  identifier: z.object({ system: z.string().optional(), value: z.string().optional() }).optional(),
  rpps: z.string().optional(),
  display: z.string().optional(),
});

const partiesSchema = z.array(partySchema);
const conceptsSchema = z.array(codeableConceptSchema);
const textSchema = z.string();

/**
 * A field kept in `extra`, if it has the expected shape. Absent fields (the common case) are not
 * handed to zod: a failed parse builds an error object, and this runs for every listed document.
 */
function kept<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  return value === undefined ? undefined : schema.safeParse(value).data;
}

function partyReference(p: DeclaredParty): Record<string, unknown> {
  return {
    ...(p.resourceType ? { type: p.resourceType } : {}),
    ...(p.identifier?.value ? { identifier: p.identifier } : {}),
    ...(p.display ? { display: p.display } : {}),
  };
}

let visibilityByCode: { source: readonly unknown[]; labels: Map<string, string> } | undefined;

/** TRE_A07 code → label, rebuilt only when the nomenclature was reloaded. */
function visibilityLabels(): Map<string, string> {
  const source = visibilityStatuses();
  if (visibilityByCode?.source !== source) {
    visibilityByCode = { source, labels: new Map(source.map((s) => [s.code, s.label])) };
  }
  return visibilityByCode.labels;
}

/**
 * The PDSm comprehensive DocumentReference of a stored document.
 *
 * @example toDocumentReference(meta, { baseUrl, patient: { oid, matricule }, authorRpps: '10005173140' })
 */
export function toDocumentReference(meta: DocumentMeta, o: PresentOptions): FhirResource {
  const e = meta.extra;
  const declared = kept(partiesSchema, e.authors) ?? [];
  const authenticator = kept(partySchema, e.authenticator);
  const facilityType = kept(codeableConceptSchema, e.facilityType);
  const practiceSetting = kept(codeableConceptSchema, e.practiceSetting);
  const event = kept(conceptsSchema, e.event);
  const periodEnd = kept(textSchema, e.periodEnd);
  const description = kept(textSchema, e.description);
  const format = kept(codingSchema, e.format);
  const classLabel = documentClasses().find((c) => c.code === meta.classCode)?.label;
  const visibility = visibilityLabels();

  const author =
    meta.author.kind === 'professional' && o.authorRpps
      ? [
          {
            type: 'Practitioner',
            identifier: { system: IDNPS_SYSTEM, value: idnpsFromRpps(o.authorRpps) },
            display: meta.author.display,
          },
        ]
      : [{ type: meta.author.kind === 'patient' ? 'Patient' : 'Practitioner', display: meta.author.display }];
  const others = declared.filter((d) => !(d.rpps && d.rpps === o.authorRpps)).map(partyReference);

  return {
    resourceType: 'DocumentReference',
    id: meta.id,
    meta: { lastUpdated: meta.updatedAt, profile: [PDSM_PROFILE.documentReference] },
    masterIdentifier: { system: RFC3986, value: meta.masterIdentifier },
    identifier: [{ use: 'usual', system: RFC3986, value: `urn:uuid:${meta.id}` }],
    status: meta.status,
    ...(meta.type
      ? {
          type: {
            coding: [
              {
                system: meta.type.system,
                code: meta.type.code,
                ...(meta.type.display ? { display: meta.type.display } : {}),
              },
            ],
          },
        }
      : {}),
    ...(meta.classCode
      ? {
          category: [
            {
              coding: [
                {
                  system: TRE_A03_SYSTEM,
                  code: meta.classCode,
                  ...(classLabel ? { display: classLabel } : {}),
                },
              ],
            },
          ],
        }
      : {}),
    subject: {
      reference: `Patient?identifier=${insSystem(o.patient.oid)}|${o.patient.matricule}`,
      type: 'Patient',
      identifier: { system: insSystem(o.patient.oid), value: o.patient.matricule },
    },
    date: meta.createdAt,
    author: [...author, ...others],
    ...(authenticator ? { authenticator: partyReference(authenticator) } : {}),
    ...(description ? { description } : {}),
    securityLabel: meta.confidentiality.map((code) => ({
      coding: [
        visibility.has(code)
          ? { system: TRE_A07_SYSTEM, code, display: visibility.get(code) }
          : { system: V3_CONFIDENTIALITY, code },
      ],
    })),
    content: [
      {
        attachment: {
          contentType: meta.mediaType,
          ...(meta.language ? { language: meta.language } : {}),
          url: `${o.baseUrl}/fhir/R4/Binary/${meta.id}`,
          size: meta.size,
          hash: meta.sha1,
          title: meta.title,
          creation: meta.documentDate,
        },
        ...(meta.formatCode
          ? {
              format:
                format?.code === meta.formatCode
                  ? format
                  : { system: IHE_FORMAT_CODES, code: meta.formatCode },
            }
          : {}),
      },
    ],
    context: {
      period: { start: meta.documentDate, ...(periodEnd ? { end: periodEnd } : {}) },
      ...(event?.length ? { event } : {}),
      ...(facilityType ? { facilityType } : {}),
      ...(practiceSetting ? { practiceSetting } : {}),
    },
    ...(meta.replacesId
      ? { relatesTo: [{ code: 'replaces', target: { reference: `DocumentReference/${meta.replacesId}` } }] }
      : {}),
  };
}
