import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ctxOf, recordActor } from '../http/request-context.ts';
import { importFhirBundle } from './bundle-import.service.ts';

/**
 * POST /api/profile/import (registered under /api in app.ts): a person imports a FHIR R4 Bundle of
 * their own health data. Lives in the FHIR layer because modules may not import src/fhir.
 */

export const IMPORT_MAX_BYTES = 5 * 1024 * 1024;

const apiError = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }),
});
const counts = z.object({
  allergies: z.number().int(),
  diseases: z.number().int(),
  treatments: z.number().int(),
  hospitalisations: z.number().int(),
  familyHistory: z.number().int(),
  disabilities: z.number().int(),
  bloodGroup: z.number().int(),
  lifestyle: z.number().int(),
  immunizations: z.number().int(),
  measurements: z.number().int(),
});

export const profileImportRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/profile/import',
    {
      bodyLimit: IMPORT_MAX_BYTES,
      schema: {
        tags: ['profile'],
        summary:
          'Import a FHIR R4 Bundle (transaction, batch or collection) into my profile, measurements and vaccinations',
        description:
          'AllergyIntolerance, Condition, MedicationStatement/MedicationRequest and FamilyMemberHistory go to the ' +
          'profile, Immunization to vaccinations, vital-sign Observations of the measurement types to measurements; ' +
          'everything else is skipped with the reason. Entries are marked as imported. Importing the same Bundle ' +
          'again changes nothing (idempotent by source and fullUrl). The Bundle’s Patient is ignored: the data goes ' +
          'to the person signed in (or the one named by X-Carnet-Profile). Not atomic across sections: after a ' +
          'failure, send the same Bundle again.',
        body: z.record(z.string(), z.unknown()).describe('A FHIR R4 Bundle (JSON, up to 5 MB)'),
        response: {
          200: z.object({
            source: z.string(),
            imported: counts,
            unchanged: counts,
            skipped: z.array(
              z.object({ resourceType: z.string(), count: z.number().int(), reason: z.string() }),
            ),
          }),
          400: apiError,
          401: apiError,
          403: apiError,
          404: apiError,
          413: apiError,
        },
      },
    },
    async (request) => {
      const { actor, patientId } = await recordActor(request);
      return importFhirBundle(ctxOf(request), actor, patientId, request.body);
    },
  );
};
