import { invalid } from '../errors.ts';
import type { Ctx } from '../platform/context.ts';
import { listRecordHistory, type ProfessionalActor } from '../modules/access/index.ts';
import { toFhirAuditEvent } from '../modules/audit/index.ts';
import { resolvePatientByIns } from '../modules/identity/index.ts';
import { insFromToken, type FhirResource } from './common.ts';
import { NIR_OID, type RawQuery } from './search-params.ts';

/**
 * `GET /fhir/R4/AuditEvent?patient.identifier=…` — the record's traces, for professionals with GP
 * rights (the declared GP or an administrator the person named; DOMAIN §5). Everyone else gets 404,
 * as the access decision says. Paged newest first with `_count` and `_cursor`.
 */
export const AUDIT_SEARCH_PARAMS = ['patient.identifier', '_count', '_cursor', '_format'] as const;

function single(query: RawQuery, name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) {
    if (v.length > 1) throw invalid(`${name} may be given only once`, name);
    return v[0];
  }
  return v;
}

export async function searchAuditEvents(
  ctx: Ctx,
  actor: ProfessionalActor,
  query: RawQuery,
  selfUrl: string,
): Promise<FhirResource> {
  for (const name of Object.keys(query)) {
    if (!(AUDIT_SEARCH_PARAMS as readonly string[]).includes(name))
      throw invalid(`Unsupported search parameter: ${name}`, name);
  }
  const token = single(query, 'patient.identifier');
  if (!token) throw invalid('patient.identifier is required', 'patient.identifier');
  const ins = insFromToken(token, 'patient.identifier', ctx.config.testInsOids, NIR_OID);
  const { patient } = await resolvePatientByIns(ctx, ins, 'patient.identifier');
  const countText = single(query, '_count') ?? '50';
  const count = Number(countText);
  if (!Number.isInteger(count) || count < 1) throw invalid('_count must be a positive integer', '_count');
  const cursor = single(query, '_cursor');
  const page = await listRecordHistory(ctx, actor, patient.id, {
    limit: Math.min(count, 200),
    ...(cursor ? { cursor } : {}),
  });
  const next = page.nextCursor
    ? `${selfUrl.split('?')[0]}?patient.identifier=${encodeURIComponent(token)}&_count=${count}&_cursor=${page.nextCursor}`
    : undefined;
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    link: [{ relation: 'self', url: selfUrl }, ...(next ? [{ relation: 'next', url: next }] : [])],
    entry: page.items.map((e) => {
      const resource = toFhirAuditEvent(e);
      return {
        fullUrl: `${ctx.config.baseUrl}/fhir/R4/AuditEvent/${e.id}`,
        resource,
        search: { mode: 'match' },
      };
    }),
  };
}
