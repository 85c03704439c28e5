/**
 * A minimal FHIR client over real HTTP (global fetch), for tests that drive a server process:
 * publish (ITI-105), read a DocumentReference, download its Binary, page through a search.
 */

const FHIR_JSON = 'application/fhir+json';

export interface PublishOutcome {
  status: number;
  /** The stored document's id (from the body, else from the Location header). */
  id?: string;
  text: string;
}

function idFrom(text: string, location: string | null): string | undefined {
  try {
    const body = JSON.parse(text) as { resourceType?: string; id?: unknown };
    if (body.resourceType === 'DocumentReference' && typeof body.id === 'string') return body.id;
  } catch {
    /* not JSON */
  }
  return location ? /DocumentReference\/([0-9a-f-]{36})/.exec(location)?.[1] : undefined;
}

/**
 * POST /fhir/R4/DocumentReference. Rejects when the connection fails (e.g. the server was killed).
 * @example const { status, id } = await publish(url, token, JSON.stringify(resource));
 */
export async function publish(
  url: string,
  token: string,
  body: string,
  timeoutMs = 15_000,
): Promise<PublishOutcome> {
  const res = await fetch(`${url}/fhir/R4/DocumentReference`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': FHIR_JSON, accept: FHIR_JSON },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  const id = idFrom(text, res.headers.get('location'));
  return { status: res.status, text, ...(id ? { id } : {}) };
}

/**
 * GET /fhir/R4/DocumentReference/<id>.
 * @example const { status, resource } = await readDocumentReference(url, token, id);
 */
export async function readDocumentReference(
  url: string,
  token: string,
  id: string,
): Promise<{ status: number; resource: Record<string, unknown> }> {
  const res = await fetch(`${url}/fhir/R4/DocumentReference/${id}`, {
    headers: { authorization: `Bearer ${token}`, accept: FHIR_JSON },
  });
  return { status: res.status, resource: (await res.json()) as Record<string, unknown> };
}

/**
 * GET /fhir/R4/Binary/<id> as the document's own media type; a FHIR Binary resource answer is
 * decoded too, so either style of server yields the raw bytes.
 * @example const { status, bytes } = await readBinary(url, token, id, 'application/pdf');
 */
export async function readBinary(
  url: string,
  token: string,
  id: string,
  mediaType: string,
): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(`${url}/fhir/R4/Binary/${id}`, {
    headers: { authorization: `Bearer ${token}`, accept: mediaType },
  });
  const raw = Buffer.from(await res.arrayBuffer());
  if (res.status === 200 && (res.headers.get('content-type') ?? '').startsWith(FHIR_JSON)) {
    const resource = JSON.parse(raw.toString('utf8')) as { resourceType?: string; data?: string };
    if (resource.resourceType === 'Binary' && typeof resource.data === 'string') {
      return { status: res.status, bytes: Buffer.from(resource.data, 'base64') };
    }
  }
  return { status: res.status, bytes: raw };
}

interface Bundle {
  resourceType: string;
  entry?: Array<{ resource?: Record<string, unknown> }>;
  link?: Array<{ relation: string; url: string }>;
}

/**
 * Every DocumentReference of a patient visible to the token's owner, following `next` links.
 * @example const docs = await searchAllDocuments(url, token, `urn:oid:${oid}|${ins}`);
 */
export async function searchAllDocuments(
  url: string,
  token: string,
  insToken: string,
): Promise<Array<Record<string, unknown>>> {
  const found: Array<Record<string, unknown>> = [];
  const query = new URLSearchParams({ 'patient.identifier': insToken, _count: '100' }).toString();
  let next: string | undefined = `${url}/fhir/R4/DocumentReference?${query}`;
  for (let page = 0; next && page < 1000; page++) {
    const res = await fetch(next, { headers: { authorization: `Bearer ${token}`, accept: FHIR_JSON } });
    const bundle = (await res.json()) as Bundle;
    if (res.status !== 200 || bundle.resourceType !== 'Bundle')
      throw new Error(`search: HTTP ${res.status} ${JSON.stringify(bundle).slice(0, 500)}`);
    for (const e of bundle.entry ?? [])
      if (e.resource?.resourceType === 'DocumentReference') found.push(e.resource);
    next = bundle.link?.find((l) => l.relation === 'next')?.url;
  }
  return found;
}

/** The masterIdentifier value of a DocumentReference resource. */
export function masterIdentifierOf(resource: Record<string, unknown>): string | undefined {
  const mi = resource.masterIdentifier as { value?: unknown } | undefined;
  return typeof mi?.value === 'string' ? mi.value : undefined;
}
