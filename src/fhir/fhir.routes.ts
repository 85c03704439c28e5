import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { immunizationRoutes } from './immunization.routes.ts';
import { ipsRoutes } from './ips.routes.ts';
import { observationRoutes } from './observation.routes.ts';
import { AppError } from '../errors.ts';
import { ctxOf, professionalActor } from '../http/request-context.ts';
import type { ProfessionalActor } from '../modules/access/index.ts';
import { deleteDocument, downloadDocument } from '../modules/documents/index.ts';
import { capabilityStatement } from './capability.ts';
import { FHIR_JSON_UTF8, FHIR_MAX_BODY_BYTES, type FhirResource } from './common.ts';
import {
  findDocumentReferences,
  publishDocumentReference,
  readDocumentReferenceById,
} from './document-interactions.ts';
import type { RawQuery } from './search-params.ts';
import { provideDocumentBundle } from './transaction.ts';
import { emergencyAccessOperation } from './emergency.ts';
import { searchAuditEvents } from './audit-event.ts';

/**
 * FHIR R4 endpoint for professional software, following PDSm (French profile of IHE MHD).
 * Thin: authenticate, hand the body or query to the interaction, present. Errors thrown here are
 * answered as OperationOutcome by http/errors.ts.
 *
 * Bodies are JSON only (application/fhir+json or application/json, 40 MB at most); anything else
 * is 415. The bearer token is checked before the body is read, so anonymous clients cannot make
 * the server buffer large bodies.
 */

const FORM_MAX_BYTES = 64 * 1024;

function send(reply: FastifyReply, status: number, resource: FhirResource): FastifyReply {
  return reply.code(status).type(FHIR_JSON_UTF8).send(JSON.stringify(resource));
}

/** True when the client asks for the FHIR JSON form rather than the raw bytes. */
function wantsFhirJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept
    .split(',')
    .map((part) => part.split(';')[0]?.trim().toLowerCase())
    .some((type) => type === 'application/fhir+json' || type === 'application/json+fhir');
}

function idParam(request: FastifyRequest): string {
  const id = (request.params as { id?: unknown }).id;
  if (typeof id !== 'string' || id.length > 64) throw new AppError('not_found', 'Not found');
  return id;
}

function formBody(body: unknown): RawQuery {
  if (body === undefined) return {};
  if (typeof body !== 'string')
    throw new AppError('unsupported_media_type', 'POST _search takes application/x-www-form-urlencoded');
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function mergeQueries(a: RawQuery, b: RawQuery): RawQuery {
  const out: RawQuery = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (value === undefined) continue;
    const prev = out[key];
    const list = [
      ...(prev === undefined ? [] : Array.isArray(prev) ? prev : [prev]),
      ...(Array.isArray(value) ? value : [value]),
    ];
    out[key] = list.length === 1 ? list[0] : list;
  }
  return out;
}

export const fhirRoutes: FastifyPluginAsync = async (app) => {
  const actors = new WeakMap<FastifyRequest, ProfessionalActor>();
  const actorOf = (request: FastifyRequest): ProfessionalActor => {
    const actor = actors.get(request);
    if (!actor) throw new AppError('unauthenticated', 'A bearer access token is required');
    return actor;
  };
  const metadataUrl = `${app.prefix}/metadata`;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/fhir+json', 'application/json'],
    { parseAs: 'string', bodyLimit: FHIR_MAX_BODY_BYTES },
    app.getDefaultJsonParser('error', 'error'),
  );
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url === metadataUrl) return;
    actors.set(request, await professionalActor(request));
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const type = reply.getHeader('content-type');
    if (typeof type === 'string' && type.startsWith('application/fhir+json') && !type.includes('charset')) {
      reply.header('content-type', FHIR_JSON_UTF8);
    }
    if (request.routeOptions.url !== metadataUrl) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.get('/metadata', async (request, reply) =>
    send(reply, 200, capabilityStatement(request.server.carnet.config.baseUrl)),
  );

  await app.register(observationRoutes, { actorOf });
  await app.register(immunizationRoutes, { actorOf });
  await app.register(ipsRoutes, { actorOf });

  // ITI-65
  app.post('/', async (request, reply) =>
    send(reply, 200, await provideDocumentBundle(ctxOf(request), actorOf(request), request.body)),
  );

  // ITI-105
  app.post('/DocumentReference', async (request, reply) => {
    const ctx = ctxOf(request);
    const { created, resource } = await publishDocumentReference(ctx, actorOf(request), request.body);
    if (created)
      reply.header('location', `${ctx.config.baseUrl}/fhir/R4/DocumentReference/${resource.id}/_history/1`);
    return send(reply, created ? 201 : 200, resource);
  });

  // ITI-67
  app.get('/DocumentReference', async (request, reply) =>
    send(
      reply,
      200,
      await findDocumentReferences(ctxOf(request), actorOf(request), request.query as RawQuery),
    ),
  );
  await app.register(async (form) => {
    form.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_MAX_BYTES },
      (_req, body, done) => done(null, body),
    );
    form.post('/DocumentReference/_search', async (request, reply) => {
      const raw = mergeQueries(request.query as RawQuery, formBody(request.body));
      return send(reply, 200, await findDocumentReferences(ctxOf(request), actorOf(request), raw));
    });
  });

  app.get('/DocumentReference/:id', async (request, reply) =>
    send(reply, 200, await readDocumentReferenceById(ctxOf(request), actorOf(request), idParam(request))),
  );

  app.get('/AuditEvent', async (request, reply) =>
    send(
      reply,
      200,
      await searchAuditEvents(
        ctxOf(request),
        actorOf(request),
        request.query as RawQuery,
        `${ctxOf(request).config.baseUrl}${request.url}`,
      ),
    ),
  );

  app.post('/Patient/$emergency-access', async (request, reply) =>
    send(
      reply,
      200,
      await emergencyAccessOperation(
        ctxOf(request),
        actorOf(request),
        request.body,
        ctxOf(request).config.emergencyAccessHours,
      ),
    ),
  );

  // vread: documents are not versioned here (a new version is a new document that replaces the old),
  // so version 1 — the one Location headers name — is the document itself.
  app.get('/DocumentReference/:id/_history/:vid', async (request, reply) => {
    const { vid } = request.params as { vid: string };
    if (vid !== '1') throw new AppError('not_found', 'Not found');
    return send(
      reply,
      200,
      await readDocumentReferenceById(ctxOf(request), actorOf(request), idParam(request)),
    );
  });

  app.delete('/DocumentReference/:id', async (request, reply) => {
    await deleteDocument(ctxOf(request), actorOf(request), idParam(request));
    return reply.code(204).send();
  });

  // ITI-68
  app.get('/Binary/:id', async (request, reply) => {
    const id = idParam(request);
    const { meta, content } = await downloadDocument(ctxOf(request), actorOf(request), id);
    if (wantsFhirJson(request.headers.accept)) {
      return send(reply, 200, {
        resourceType: 'Binary',
        id,
        contentType: meta.mediaType,
        data: content.toString('base64'),
      });
    }
    return reply
      .code(200)
      .type(meta.mediaType)
      .header('content-disposition', 'attachment')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(content);
  });
};
