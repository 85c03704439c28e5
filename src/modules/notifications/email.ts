import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Config } from '../../config.ts';
import { isUuid } from '../../platform/ids.ts';
import type { ChannelSink, OutgoingNotification } from './channels.ts';
import type { Language } from './notification.ts';

/**
 * The e-mail channel: SMTP through nodemailer when SMTP_URL is set, otherwise (embedded,
 * development) a folder of .eml files. Both are idempotent by notification id: the file is named
 * by it, and the SMTP Message-ID carries it (a receiving server or a person can spot a repeat;
 * the delivery row written after a success keeps a retried job from sending again).
 */

const FOOTER: Record<Language, (baseUrl: string) => string> = {
  fr: (url) =>
    `Pour en savoir plus, connectez-vous à votre espace santé : ${url}\n` +
    'Ce message est envoyé automatiquement, merci de ne pas y répondre. ' +
    'Vous pouvez choisir les notifications que vous recevez dans vos préférences.',
  en: (url) =>
    `To find out more, sign in to your health space: ${url}\n` +
    'This message is sent automatically; please do not reply. ' +
    'You can choose which notifications you receive in your preferences.',
};

/** The Message-ID of a notification's e-mail: the same on every attempt. */
export function messageIdOf(notificationId: string): string {
  return `<${notificationId}@notifications.carnet>`;
}

function mailOf(config: Config, m: OutgoingNotification, to: string): SendMailOptions {
  return {
    from: config.mail.from,
    to,
    subject: m.text.title,
    text: `${m.text.body}\n\n${FOOTER[m.language](config.baseUrl)}\n`,
    messageId: messageIdOf(m.id),
    date: m.createdAt,
    headers: { 'Auto-Submitted': 'auto-generated' },
  };
}

/**
 * The e-mail sink the configuration asks for.
 * @example const sink = emailSink(ctx.config); await sink.deliver(ctx, message);
 */
export function emailSink(config: Config): ChannelSink {
  return config.mail.kind === 'smtp'
    ? smtpSink(config, config.mail.url)
    : outboxSink(config, config.mail.dir);
}

function smtpSink(config: Config, url: string): ChannelSink {
  // A pool, so close() ends the connections, and a send in flight fails (to be retried) rather than
  // landing after the worker stopped.
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections: 2,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  let closed = false;
  return {
    channel: 'email',
    transactional: false,
    deliver: async (_ctx, m, attempt) => {
      if (!m.email) return { outcome: 'skipped', detail: 'no e-mail address' };
      if (closed) throw new Error('the e-mail channel is closed');
      const signal = attempt?.signal;
      await transport.sendMail({ ...mailOf(config, m, m.email), ...(signal ? { signal } : {}) });
      return { outcome: 'delivered' };
    },
    close: async () => {
      closed = true;
      transport.close();
    },
  };
}

function outboxSink(config: Config, dir: string): ChannelSink {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const deliver: ChannelSink['deliver'] = async (_ctx, m) => {
    if (!m.email) return { outcome: 'skipped', detail: 'no e-mail address' };
    const file = join(dir, `${m.id}.eml`);
    if (await exists(file)) return { outcome: 'delivered' };
    const info = await composer.sendMail(mailOf(config, m, m.email));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, info.message as Buffer, { mode: 0o600 });
    await rename(tmp, file);
    return { outcome: 'delivered' };
  };
  return {
    channel: 'email',
    transactional: false,
    deliver,
    close: async () => undefined,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface OutboxMail {
  readonly id: string;
  readonly to: string;
  readonly subject: string;
  readonly date: Date;
  readonly size: number;
}

/**
 * The mails in the local outbox, newest first (development page /dev/mail).
 * @example const mails = await listOutboxMails(config.mail.dir);
 */
export async function listOutboxMails(dir: string, limit = 200): Promise<OutboxMail[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const ids = names
    .filter((n) => n.endsWith('.eml') && isUuid(n.slice(0, -4)))
    .map((n) => n.slice(0, -4))
    .sort()
    .reverse()
    .slice(0, limit);
  return Promise.all(
    ids.map(async (id) => {
      const raw = await readFile(join(dir, `${id}.eml`), 'utf8');
      const head = unfold(raw.split(/\r?\n\r?\n/, 1)[0] ?? '');
      return {
        id,
        to: decodeWords(header(head, 'To')),
        subject: decodeWords(header(head, 'Subject')),
        date: new Date(header(head, 'Date')),
        size: Buffer.byteLength(raw),
      };
    }),
  );
}

/** One outbox mail as stored (RFC 5322), or undefined. */
export async function readOutboxMail(dir: string, id: string): Promise<string | undefined> {
  if (!isUuid(id)) return undefined;
  try {
    return await readFile(join(dir, `${id}.eml`), 'utf8');
  } catch {
    return undefined;
  }
}

function unfold(head: string): string {
  return head.replace(/\r?\n[ \t]+/g, ' ');
}

function header(head: string, name: string): string {
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}

/** Decodes RFC 2047 encoded words (=?UTF-8?Q?…?= and =?UTF-8?B?…?=) for display. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_all, _charset: string, enc: string, text: string) => {
      if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
      const bytes = text
        .replace(/_/g, ' ')
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    });
}
