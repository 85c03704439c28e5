import { randomBytes } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../config.ts';
import { isUuid } from '../../platform/ids.ts';

/**
 * Account e-mail: messages about the space itself (provisional code, one-time sign-in code,
 * invitation), sent at once and never stored in the notification outbox — they carry secrets.
 * Same transport as notifications: SMTP when SMTP_URL is set, else the local outbox folder (shown
 * at /dev/mail in demo mode). Idempotent by id: same id, same file / Message-ID.
 */

export interface AccountMail {
  /** A uuid: the file name and Message-ID, so a retry does not send twice to the outbox. */
  readonly id: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly at: Date;
  readonly attachments?: ReadonlyArray<{ filename: string; content: Buffer; contentType: string }>;
}

const smtpTransports = new Map<string, Transporter>();

function options(config: Config, mail: AccountMail) {
  return {
    from: config.mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    messageId: `<${mail.id}@accounts.carnet>`,
    date: mail.at,
    headers: { 'Auto-Submitted': 'auto-generated' },
    attachments: (mail.attachments ?? []).map((a) => ({ ...a })),
  };
}

/** @example await sendAccountMail(ctx.config, { id: uuidv7(), to, subject, text, at: ctx.clock.now() }); */
export async function sendAccountMail(config: Config, mail: AccountMail): Promise<void> {
  if (!isUuid(mail.id)) throw new Error('an account mail id must be a uuid');
  if (config.mail.kind === 'smtp') {
    let t = smtpTransports.get(config.mail.url);
    if (!t) {
      t = nodemailer.createTransport({
        url: config.mail.url,
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      });
      smtpTransports.set(config.mail.url, t);
    }
    await t.sendMail(options(config, mail));
    return;
  }
  const dir = config.mail.dir;
  const file = join(dir, `${mail.id}.eml`);
  if (
    await stat(file).then(
      () => true,
      () => false,
    )
  )
    return;
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const info = await composer.sendMail(options(config, mail));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, info.message as Buffer, { mode: 0o600 });
  await rename(tmp, file);
}

/** Closes SMTP connections (at shutdown). */
export function closeAccountMail(): void {
  for (const t of smtpTransports.values()) t.close();
  smtpTransports.clear();
}
