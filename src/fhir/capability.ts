/**
 * The CapabilityStatement served at /fhir/R4/metadata. It lists exactly what the routes implement
 * (fhir.routes.ts): keep both in step — a test checks that every advertised interaction answers.
 */
import {
  FHIR_JSON,
  MHD_CAPABILITY,
  PDSM_CAPABILITY_RECIPIENT_RESPONDER,
  PDSM_IG,
  PDSM_PROFILE,
  type FhirResource,
} from './common.ts';
import { DOCUMENT_SEARCH_PARAMS } from './search-params.ts';
import { IMMUNIZATION_CAPABILITY } from './immunization.routes.ts';
import { IPS_CAPABILITY } from './ips.routes.ts';
import { OBSERVATION_CAPABILITY } from './observation.routes.ts';

/** When this statement last changed. */
const STATEMENT_DATE = '2026-11-22';
const SOFTWARE_VERSION = '0.1.0';

const SEARCH_PARAM_DEFINITIONS: Readonly<Record<string, string>> = {
  'patient.identifier': 'http://hl7.org/fhir/SearchParameter/clinical-patient',
  status: 'http://hl7.org/fhir/SearchParameter/DocumentReference-status',
  type: 'http://hl7.org/fhir/SearchParameter/clinical-type',
  category: 'http://hl7.org/fhir/SearchParameter/DocumentReference-category',
  date: 'http://hl7.org/fhir/SearchParameter/DocumentReference-date',
  period: 'http://hl7.org/fhir/SearchParameter/DocumentReference-period',
  'author.identifier': 'http://hl7.org/fhir/SearchParameter/DocumentReference-author',
  author: 'http://hl7.org/fhir/SearchParameter/DocumentReference-author',
};

/**
 * @example capabilityStatement('https://carnet.example').fhirVersion // '4.0.1'
 */
export function capabilityStatement(baseUrl: string): FhirResource {
  return {
    resourceType: 'CapabilityStatement',
    id: 'carnet',
    url: `${baseUrl}/fhir/R4/metadata`,
    version: SOFTWARE_VERSION,
    name: 'CarnetPDSm',
    title: 'Carnet — PDSm document recipient and responder',
    status: 'active',
    experimental: false,
    date: STATEMENT_DATE,
    publisher: 'Carnet',
    description:
      'Document sharing following the French PDSm profile of IHE MHD: ITI-65 provide document bundle, ITI-105 simplified publish, ITI-67 find document references, ITI-68 retrieve document, and deletion by the author.',
    kind: 'instance',
    instantiates: [PDSM_CAPABILITY_RECIPIENT_RESPONDER, MHD_CAPABILITY.recipient, MHD_CAPABILITY.responder],
    software: { name: 'Carnet', version: SOFTWARE_VERSION },
    implementation: { description: 'Carnet FHIR R4 endpoint', url: `${baseUrl}/fhir/R4` },
    fhirVersion: '4.0.1',
    format: [FHIR_JSON, 'json'],
    implementationGuide: [PDSM_IG],
    rest: [
      {
        mode: 'server',
        documentation:
          'Every interaction except this statement needs a bearer access token of a professional (OAuth2 client credentials at /oauth/token). A professional sees the documents they authored.',
        security: {
          cors: false,
          service: [
            {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'OAuth' },
              ],
            },
          ],
          description: `Bearer tokens from ${baseUrl}/oauth/token (client_credentials).`,
        },
        resource: [
          {
            type: 'DocumentReference',
            profile: PDSM_PROFILE.documentReference,
            supportedProfile: [PDSM_PROFILE.simplifiedPublish],
            documentation:
              'create = ITI-105 simplified publish (content inline in attachment.data); search-type = ITI-67 (GET, or POST to DocumentReference/_search with a form body); delete by the author only. A DocumentReference with relatesTo.code = replaces supersedes the target.',
            interaction: [
              { code: 'read' },
              { code: 'vread', documentation: 'Version 1 only: documents are replaced, not versioned.' },
              { code: 'search-type', documentation: 'ITI-67' },
              { code: 'create', documentation: 'ITI-105' },
              { code: 'delete', documentation: 'Only the author; anyone else gets 404.' },
            ],
            versioning: 'no-version',
            readHistory: false,
            updateCreate: false,
            conditionalCreate: false,
            conditionalRead: 'not-supported',
            conditionalUpdate: false,
            conditionalDelete: 'not-supported',
            searchParam: DOCUMENT_SEARCH_PARAMS.map((p) => ({
              name: p.name,
              ...(SEARCH_PARAM_DEFINITIONS[p.name] ? { definition: SEARCH_PARAM_DEFINITIONS[p.name] } : {}),
              type: p.type,
              documentation: p.documentation,
            })),
          },
          {
            type: 'Binary',
            documentation:
              'ITI-68: the exact bytes with their Content-Type; a Binary resource (base64) when Accept asks for application/fhir+json.',
            interaction: [{ code: 'read' }],
          },
          {
            type: 'AuditEvent',
            documentation:
              "The record's traces (IHE BALP shape), for the patient's declared GP and the administrators they named; anyone else gets 404. Newest first, paged with _cursor.",
            interaction: [{ code: 'search-type' }],
            searchParam: [
              {
                name: 'patient.identifier',
                type: 'token',
                documentation: 'The INS, system|value (required).',
              },
              { name: '_count', type: 'number', documentation: 'Page size (at most 200).' },
              { name: '_cursor', type: 'string', documentation: 'Opaque cursor from the next link.' },
            ],
          },
          {
            type: 'Patient',
            documentation:
              'No Patient resource is exposed; the $emergency-access and $summary operations only.',
            operation: [
              {
                name: 'emergency-access',
                definition: 'urn:carnet:OperationDefinition/Patient-emergency-access',
                documentation:
                  'Opens a time-limited emergency access: Parameters patient (valueIdentifier, the INS), mode (valueCode samu | break-glass), reason (valueString, mandatory). Governed by the patient’s switches; the patient and their GP are told.',
              },
              ...IPS_CAPABILITY,
            ],
          },
          ...OBSERVATION_CAPABILITY,
          ...IMMUNIZATION_CAPABILITY,
          {
            type: 'List',
            profile: PDSM_PROFILE.submissionSet,
            documentation:
              'SubmissionSets are only created inside an ITI-65 transaction; they cannot be read or searched here.',
          },
        ],
        interaction: [
          {
            code: 'transaction',
            documentation: `ITI-65 provide document bundle (${PDSM_PROFILE.provideBundle})`,
          },
        ],
      },
    ],
  };
}
