import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Configuration: read once from the environment at boot, validated, frozen. A bad or missing
 * value stops start-up with a readable list of every problem (see formatConfigErrors).
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z
  .object({
    CARNET_DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
    BLOB_STORE: z
      .string()
      .regex(/^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?|fs)$/, 'must be s3://bucket/prefix or fs')
      .optional(),
    S3_ENDPOINT: z.url().optional(),
    S3_REGION: z.string().default('us-east-1'),
    S3_FORCE_PATH_STYLE: bool.default(true),
    CARNET_BLOB_FSYNC: bool.optional(),
    CARNET_MASTER_KEY: z
      .string()
      .refine(
        (v) => Buffer.from(v, 'base64').length === 32,
        'must be 32 bytes, base64-encoded (openssl rand -base64 32)',
      )
      .optional(),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    CARNET_BASE_URL: z.url().optional(),
    CARNET_DEMO: bool.optional(),
    CARNET_TEST_INS_OIDS: z.string().default('1.2.250.1.213.1.4.10,1.2.250.1.213.1.4.11'),
    CARNET_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
    CARNET_SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(12),
    CARNET_COOKIE_SECURE: z.enum(['auto', 'true', 'false']).default('auto'),
    CARNET_EMERGENCY_ACCESS_HOURS: z.coerce.number().int().min(1).max(120).default(24),
    CARNET_ORPHAN_GRACE_SECONDS: z.coerce.number().int().min(0).default(3600),
    SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\/[^/]+/, 'must be an smtp:// or smtps:// URL (smtps://user:pass@host:465)')
      .optional(),
    SMTP_FROM: z.string().min(3).default('Carnet <no-reply@carnet.localhost>'),
    CARNET_WORKERS: bool.default(true),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    CARNET_GROWTH_TABLES_DIR: z.string().min(1).optional(),
    CARNET_VACCINATION_CALENDAR: z.string().min(1).optional(),
    PRO_OIDC_ISSUER: z.url().optional(),
    PRO_OIDC_CLIENT_ID: z.string().min(1).optional(),
    PRO_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
    PRO_OIDC_TEST_PROVIDER: bool.optional(),
  })
  .superRefine((env, ctx) => {
    if (env.PRO_OIDC_ISSUER && !(env.PRO_OIDC_CLIENT_ID && env.PRO_OIDC_CLIENT_SECRET)) {
      ctx.addIssue({
        code: 'custom',
        path: ['PRO_OIDC_CLIENT_ID'],
        message:
          'PRO_OIDC_ISSUER needs PRO_OIDC_CLIENT_ID and PRO_OIDC_CLIENT_SECRET (registered at the provider)',
      });
    }
    if (env.BLOB_STORE?.startsWith('s3://') && !env.DATABASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['BLOB_STORE'],
        message: 'an S3 blob store needs DATABASE_URL (the embedded database stays on one machine)',
      });
    }
    if (env.DATABASE_URL && !env.CARNET_MASTER_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['CARNET_MASTER_KEY'],
        message: 'is required with DATABASE_URL (it is only generated automatically in embedded mode)',
      });
    }
  });

export interface Config {
  readonly dataDir: string;
  readonly database: { kind: 'pglite'; dir: string } | { kind: 'postgres'; url: string; poolSize: number };
  readonly blobStore:
    | { kind: 'fs'; root: string; fsync: boolean }
    | { kind: 's3'; url: string; endpoint?: string; region: string; forcePathStyle: boolean };
  /** Base64 master key, or undefined in embedded mode (then generated into the data dir). */
  readonly masterKey: string | undefined;
  readonly port: number;
  readonly host: string;
  /** Public base URL (used in FHIR attachment URLs and printed at start). */
  readonly baseUrl: string;
  readonly demo: boolean;
  readonly testInsOids: readonly string[];
  readonly tokenTtlSeconds: number;
  readonly sessionTtlHours: number;
  readonly cookieSecure: 'auto' | boolean;
  readonly orphanGraceSeconds: number;
  /** How long an emergency access lasts (hours; at most 5 days, as in Australia's My Health Record). */
  readonly emergencyAccessHours: number;
  readonly logLevel: string;
  /**
   * Where notification e-mails go: an SMTP server (SMTP_URL), or else (embedded, development) a
   * folder of .eml files, `<dataDir>/mail-outbox`, shown at /dev/mail in demo mode.
   */
  readonly mail:
    | { readonly kind: 'smtp'; readonly url: string; readonly from: string }
    | { readonly kind: 'outbox'; readonly dir: string; readonly from: string };
  /** Run the background workers (notification delivery, scheduled jobs) in this process. */
  readonly workers: boolean;
  /** Folder of the WHO growth tables (not shipped); undefined: `refdata/growth/who/` if present. */
  readonly growthTablesDir: string | undefined;
  /** Vaccination calendar file (a name in refdata/vaccination or a path); undefined: the latest version. */
  readonly vaccinationCalendar: string | undefined;
  /**
   * Professional sign-in through OpenID Connect (Pro Santé Connect): PRO_OIDC_ISSUER, or else the
   * local test provider at `<baseUrl>/dev/oidc` (PRO_OIDC_TEST_PROVIDER, default: demo mode only).
   * Undefined: professionals cannot sign in on the web (FHIR bearer tokens still work).
   */
  readonly proOidc:
    | {
        readonly issuer: string;
        readonly clientId: string;
        readonly clientSecret?: string;
        readonly testProvider: boolean;
      }
    | undefined;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/**
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`),
    );
  }
  const e = parsed.data;
  const dataDir = resolve(e.CARNET_DATA_DIR);
  const postgres = e.DATABASE_URL !== undefined;
  const database: Config['database'] = postgres
    ? { kind: 'postgres', url: e.DATABASE_URL as string, poolSize: e.DATABASE_POOL_SIZE }
    : { kind: 'pglite', dir: resolve(dataDir, 'db') };
  const blobStore: Config['blobStore'] = e.BLOB_STORE?.startsWith('s3://')
    ? {
        kind: 's3',
        url: e.BLOB_STORE,
        region: e.S3_REGION,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
      }
    : // With PostgreSQL (which fsyncs its commits) files are fsynced too, so a committed row never
      // outlives its file across a power loss. PGlite never fsyncs, so neither do we by default.
      { kind: 'fs', root: resolve(dataDir, 'blobs'), fsync: e.CARNET_BLOB_FSYNC ?? postgres };
  const hostForUrl = e.HOST === '0.0.0.0' || e.HOST === '::' ? '127.0.0.1' : e.HOST;
  return Object.freeze({
    dataDir,
    database,
    blobStore,
    masterKey: e.CARNET_MASTER_KEY,
    port: e.PORT,
    host: e.HOST,
    baseUrl: (e.CARNET_BASE_URL ?? `http://${hostForUrl}:${e.PORT}`).replace(/\/$/, ''),
    demo: e.CARNET_DEMO ?? !postgres,
    testInsOids: e.CARNET_TEST_INS_OIDS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    tokenTtlSeconds: e.CARNET_TOKEN_TTL_SECONDS,
    sessionTtlHours: e.CARNET_SESSION_TTL_HOURS,
    cookieSecure: e.CARNET_COOKIE_SECURE === 'auto' ? 'auto' : e.CARNET_COOKIE_SECURE === 'true',
    orphanGraceSeconds: e.CARNET_ORPHAN_GRACE_SECONDS,
    emergencyAccessHours: e.CARNET_EMERGENCY_ACCESS_HOURS,
    logLevel: e.LOG_LEVEL,
    mail: e.SMTP_URL
      ? ({ kind: 'smtp', url: e.SMTP_URL, from: e.SMTP_FROM } as const)
      : ({ kind: 'outbox', dir: resolve(dataDir, 'mail-outbox'), from: e.SMTP_FROM } as const),
    workers: e.CARNET_WORKERS,
    growthTablesDir: e.CARNET_GROWTH_TABLES_DIR ? resolve(e.CARNET_GROWTH_TABLES_DIR) : undefined,
    vaccinationCalendar: e.CARNET_VACCINATION_CALENDAR,
    proOidc: proOidcConfig(
      e,
      (e.CARNET_BASE_URL ?? `http://${hostForUrl}:${e.PORT}`).replace(/\/$/, ''),
      e.CARNET_DEMO ?? !postgres,
    ),
  });
}

function proOidcConfig(e: z.infer<typeof schema>, baseUrl: string, demo: boolean): Config['proOidc'] {
  const testProvider = e.PRO_OIDC_TEST_PROVIDER ?? (demo && !e.PRO_OIDC_ISSUER);
  if (e.PRO_OIDC_ISSUER && e.PRO_OIDC_CLIENT_ID && e.PRO_OIDC_CLIENT_SECRET) {
    return {
      issuer: e.PRO_OIDC_ISSUER,
      clientId: e.PRO_OIDC_CLIENT_ID,
      clientSecret: e.PRO_OIDC_CLIENT_SECRET,
      testProvider,
    };
  }
  // The local test provider's client secret is derived from the master key (see oidc-test-provider.ts).
  return testProvider
    ? { issuer: `${baseUrl}/dev/oidc`, clientId: e.PRO_OIDC_CLIENT_ID ?? 'carnet', testProvider }
    : undefined;
}
