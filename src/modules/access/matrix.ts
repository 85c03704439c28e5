import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { refdataPath } from '../../platform/refdata.ts';

/**
 * The profession × document-type matrix (arrêté du 26 octobre 2023), as versioned reference data
 * (refdata/access/matrix.json). Per type code, with the document class as a fallback; absent means
 * deny. Loaded once and cached; an operator replaces the file and calls reloadAccessMatrix().
 */

const cell = z.object({ access: z.enum(['allow', 'deny']), status: z.string() });
const schema = z.object({
  id: z.string(),
  version: z.string().min(1),
  completeness: z.string(),
  professions: z.array(
    z.object({
      code: z.string().min(1),
      label: z.string(),
      namedInSources: z.boolean(),
      classes: z.record(z.string(), cell),
      types: z.record(z.string(), cell),
    }),
  ),
});

export type AccessMatrix = z.infer<typeof schema>;
export type MatrixProfession = AccessMatrix['professions'][number];

let cached: AccessMatrix | undefined;

/** Parses and checks a matrix document; throws with the first problem. */
export function parseAccessMatrix(json: unknown): AccessMatrix {
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `Invalid access matrix at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'unknown'}`,
    );
  }
  const codes = new Set<string>();
  for (const p of parsed.data.professions) {
    if (codes.has(p.code)) throw new Error(`Invalid access matrix: profession ${p.code} appears twice`);
    codes.add(p.code);
  }
  return parsed.data;
}

/** @example accessMatrix().version */
export function accessMatrix(): AccessMatrix {
  cached ??= parseAccessMatrix(JSON.parse(readFileSync(refdataPath('access', 'matrix.json'), 'utf8')));
  return cached;
}

/** Re-reads the matrix file (after an operator replaced it); returns the new version. */
export function reloadAccessMatrix(path = refdataPath('access', 'matrix.json')): string {
  // Parse first: an invalid file leaves the matrix in force untouched.
  const next = parseAccessMatrix(JSON.parse(readFileSync(path, 'utf8')));
  cached = next;
  return next.version;
}

/** May this profession read a document of this type (or, failing a type rule, of this class)? */
export function matrixAllows(
  matrix: AccessMatrix,
  professionCode: string,
  typeCode: string | null,
  classCode: string | null,
): boolean {
  const profession = matrix.professions.find((p) => p.code === professionCode);
  if (!profession) return false;
  const byType = typeCode ? profession.types[typeCode] : undefined;
  if (byType) return byType.access === 'allow';
  const byClass = classCode ? profession.classes[classCode] : undefined;
  return byClass?.access === 'allow';
}
