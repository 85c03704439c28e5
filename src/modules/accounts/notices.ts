import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto';
import type { Ctx } from '../../platform/context.ts';
import { deriveKey, openDocument, openSecret, sealDocument, sealSecret } from '../../platform/crypto.ts';
import type { Queryable } from '../../platform/db/database.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { renderTextPdf } from '../../platform/pdf.ts';
import { recordAuditEvent } from '../audit/index.ts';
import { registerJobHandler, sendAccountMail, type JobRegistry } from '../notifications/index.ts';
import { claimProvisioningDue, insertProvisionalCodesBulk, provisionalCodeMaker } from '../identity/index.ts';
import { insertNoticesBulk } from './population.repository.ts';
import { noticeMailBody, noticeText, type NoticeKind } from './notices-text.ts';
import * as repo from './notices.repository.ts';

/**
 * Notices to a person about their space (DOMAIN §2): by e-mail when the person has an address,
 * else as a printable letter (PDF, kept encrypted in the blob store for printing). A provisional
 * code travels sealed in the notice row until delivery, then the sealed payload is erased: after
 * delivery only the keyed hash of the code remains (and the letter, encrypted, when it is one).
 */

export type { NoticeKind } from './notices-text.ts';

const SEAL_PURPOSE = 'account-notice';

function aad(patientId: string, noticeId: string): string {
  return `${patientId}/${noticeId}`;
}

function letterAad(patientId: string, noticeId: string): string {
  return `letter:${patientId}/${noticeId}`;
}

/** The blob key of a letter notice's PDF. */
export function letterBlobKey(patientId: string, noticeId: string): string {
  return `letters/${patientId}/${noticeId}.pdf`;
}

/** Sealed payload of a notice carrying `code` (for bulk inserts). */
export function sealNoticeCode(
  ctx: Pick<Ctx, 'masterKey'>,
  patientId: string,
  noticeId: string,
  code: string,
): Buffer {
  return sealSecret(ctx.masterKey, SEAL_PURPOSE, JSON.stringify({ code }), aad(patientId, noticeId));
}

/**
 * The same sealing as `sealNoticeCode` with the key derived once, for many notices (population
 * import): output readable by `openSecret` (version 1 | IV | ciphertext | tag, AES-256-GCM).
 */
export function noticeCodeSealer(
  ctx: Pick<Ctx, 'masterKey'>,
): (patientId: string, noticeId: string, code: string) => Buffer {
  const key = createSecretKey(deriveKey(ctx.masterKey, `secret:${SEAL_PURPOSE}`));
  let ivs = randomBytes(12 * 512);
  let at = 0;
  return (patientId, noticeId, code) => {
    if (at === ivs.length) {
      ivs = randomBytes(12 * 512);
      at = 0;
    }
    const iv = ivs.subarray(at, at + 12);
    at += 12;
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad(patientId, noticeId), 'utf8'));
    const body = cipher.update(JSON.stringify({ code }), 'utf8');
    const tail = cipher.final();
    return Buffer.concat([Buffer.from([1]), iv, body, tail, cipher.getAuthTag()]);
  };
}

/**
 * Queues a notice to the person in `db` (the caller's transaction); a job delivers it.
 * @example await queueNotice(ctx, tx, { patientId, kind: 'code_reissued', code });
 */
export async function queueNotice(
  ctx: Ctx,
  db: Queryable,
  input: { patientId: string; kind: NoticeKind; code?: string },
): Promise<{ id: string; channel: 'email' | 'letter' }> {
  const person = await repo.patientContact(db, input.patientId);
  if (!person) throw new Error(`queueNotice: unknown patient ${input.patientId}`);
  const now = ctx.clock.now();
  const id = uuidv7(now.getTime());
  const channel = person.email ? 'email' : 'letter';
  await repo.insertNotice(db, {
    patient_id: input.patientId,
    id,
    kind: input.kind,
    channel,
    sealed_payload: input.code === undefined ? null : sealNoticeCode(ctx, input.patientId, id, input.code),
    created_at: now,
  });
  return { id, channel };
}

/**
 * Makes the provisioning notices of spaces imported as pending (DOMAIN §2: "the insurer sends a
 * notice with a one-time provisional code"): for up to `limit` people, in one transaction, a
 * provisional code (only its keyed hash stored) and a notice carrying it sealed until delivery. The
 * import itself writes only the people, so it stays fast; the code is made minutes before it is
 * sent, and rests nowhere in clear. Returns how many notices were made.
 */
export async function issueProvisioningNotices(ctx: Ctx, options: { limit?: number } = {}): Promise<number> {
  const now = ctx.clock.now();
  const makeCode = provisionalCodeMaker(ctx);
  const seal = noticeCodeSealer(ctx);
  return ctx.rootDb.transaction().execute(async (tx) => {
    const due = await claimProvisioningDue(tx, options.limit ?? 200, now);
    if (due.length === 0) return 0;
    const codes = due.map((p) => ({ patientId: p.id, code: makeCode(p.id, now) }));
    await insertProvisionalCodesBulk(tx, codes, now);
    await insertNoticesBulk(
      tx,
      codes.map((c, i) => {
        const id = uuidv7(now.getTime());
        return {
          patientId: c.patientId,
          id,
          kind: 'provisioning',
          channel: due[i]?.email ? ('email' as const) : ('letter' as const),
          sealedPayload: seal(c.patientId, id, c.code.code),
        };
      }),
      now,
    );
    return due.length;
  });
}

const SYSTEM_ACTOR = {
  kind: 'system',
  id: null,
  display: 'Carnet (avis de compte)',
  organizationId: null,
  clientId: null,
} as const;

/**
 * Delivers pending notices, oldest first, each in its own transaction: renders the text, sends the
 * mail (idempotent by notice id) or stores the letter, then marks it delivered and erases the
 * sealed code. A failure leaves the notice pending for the next run.
 */
export async function deliverPendingNotices(
  ctx: Ctx,
  options: { limit?: number } = {},
): Promise<{ delivered: number; failed: number }> {
  await issueProvisioningNotices(ctx, { limit: options.limit ?? 200 });
  const pending = await repo.pendingNoticeIds(ctx.rootDb, options.limit ?? 200);
  let delivered = 0;
  let failed = 0;
  for (const p of pending) {
    try {
      const done = await ctx.rootDb.transaction().execute((tx) => deliverOne(ctx, tx, p.patient_id, p.id));
      if (done) delivered++;
    } catch (error) {
      failed++;
      ctx.log.warn({ err: error, patientId: p.patient_id, noticeId: p.id }, 'account notice not delivered');
    }
  }
  return { delivered, failed };
}

async function deliverOne(ctx: Ctx, tx: Queryable, patientId: string, noticeId: string): Promise<boolean> {
  const notice = await repo.lockPendingNotice(tx, patientId, noticeId);
  if (!notice) return false;
  const person = await repo.recipient(tx, patientId);
  if (!person) throw new Error('the person of the notice is gone');
  const code =
    notice.sealed_payload === null
      ? undefined
      : (
          JSON.parse(
            openSecret(ctx.masterKey, SEAL_PURPOSE, notice.sealed_payload, aad(patientId, noticeId)),
          ) as {
            code: string;
          }
        ).code;
  const language = person.language ?? 'fr';
  const text = noticeText(notice.kind as NoticeKind, language, {
    name: `${person.given} ${person.family}`,
    baseUrl: ctx.config.baseUrl,
    ...(code === undefined ? {} : { code }),
    oppositionDeadline: person.opposition_deadline,
    suspensionDeadline: person.suspension_deadline,
    eraseAfter: person.erase_after,
  });
  const now = ctx.clock.now();
  let blobKey: string | null = null;
  if (notice.channel === 'email' && person.email) {
    await sendAccountMail(ctx.config, {
      id: noticeId,
      to: person.email,
      subject: text.subject,
      text: noticeMailBody(text, language),
      at: now,
    });
  } else {
    const address = person.postal_address;
    const recipientLines = [
      `${person.given} ${person.family}`,
      ...(address ? [...address.lines, `${address.postalCode} ${address.city}`] : []),
      ...(address?.country ? [address.country] : []),
    ];
    const pdf = await renderTextPdf({
      title: text.title,
      paragraphs: [...recipientLines, '', ...text.paragraphs],
      ...(text.highlight === undefined ? {} : { highlight: text.highlight }),
      after: text.after,
      footer: `Carnet — ${ctx.config.baseUrl}`,
      at: now,
      language,
    });
    blobKey = letterBlobKey(patientId, noticeId);
    const sealed = sealDocument(ctx.masterKey, pdf, letterAad(patientId, noticeId));
    await ctx.blobs.put(blobKey, sealed.blob);
    await repo.insertLetterKey(tx, {
      patient_id: patientId,
      notice_id: noticeId,
      key_id: sealed.keyId,
      wrapped_key: sealed.wrappedKey,
      created_at: now,
    });
  }
  await repo.markDelivered(tx, patientId, noticeId, now, blobKey);
  await recordAuditEvent(tx, {
    patientId,
    recordedAt: now,
    actor: SYSTEM_ACTOR,
    action: 'create',
    entity: { type: 'AccountNotice', id: noticeId },
    outcome: 'success',
    basis: null,
    reason: null,
    requestId: null,
    details: { kind: notice.kind, channel: notice.channel === 'email' && person.email ? 'email' : 'letter' },
  });
  return true;
}

/** The letter PDF of a delivered letter notice, or undefined when there is none. */
export async function readLetter(ctx: Ctx, patientId: string, noticeId: string): Promise<Buffer | undefined> {
  const row = await repo.letter(ctx.db, patientId, noticeId);
  if (!row) return undefined;
  const blob = await ctx.blobs.get(row.letter_blob_key);
  return openDocument(ctx.masterKey, blob, row.wrapped_key, letterAad(patientId, noticeId));
}

/** Registers the delivery job; returns the crons to schedule (wired by the composition root). */
export function registerNoticeJobs(jobs: JobRegistry): Array<{ name: string; cron: string }> {
  registerJobHandler(jobs, 'accounts.deliver-notices', async (ctx) => {
    const report = await deliverPendingNotices(ctx, { limit: 500 });
    if (report.delivered || report.failed) ctx.log.info(report, 'account notices delivered');
  });
  return [{ name: 'accounts.deliver-notices', cron: '* * * * *' }];
}
