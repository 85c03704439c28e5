import { userInfo } from 'node:os';
import { AppError } from '../../errors.ts';
import type { Runtime } from '../../runtime.ts';
import { closeSpace, reopenSpace } from './closure.ts';
import { operatorActor, type SpaceState } from './lifecycle.ts';
import { findPersonByMatricule, reissueCode, showPerson, type PersonOverview } from './operator.ts';
import { suspendSpace, unsuspendSpace } from './suspension.ts';

export const PERSON_USAGE = `Usage: carnet person <command> <matricule> [--oid OID] [--json]
  show                        identity, state of the space, notices, sessions, representations
  reissue-code                issue a new provisional code, sent to the person by notice (never shown)
  suspend --reason "…"        suspend the space (notice; closed after 6 weeks without answer)
  unsuspend                   lift a suspension
  close [--erase-now]         close the space (archived 10 years; --erase-now: erased within 3 months)
  reopen                      re-open a closed space that is not erased yet
The operator is CARNET_OPERATOR, else the OS user name; every command is audited.`;

const COMMANDS = ['show', 'reissue-code', 'suspend', 'unsuspend', 'close', 'reopen'] as const;
type Command = (typeof COMMANDS)[number];

interface Parsed {
  command: Command;
  matricule: string;
  oid?: string;
  reason?: string;
  eraseNow: boolean;
  json: boolean;
}

function parse(args: string[]): Parsed | string {
  const [command, ...rest] = args;
  if (!command || !(COMMANDS as readonly string[]).includes(command)) {
    return command ? `Unknown person command: ${command}` : 'A person command is required';
  }
  let matricule: string | undefined;
  const out: Omit<Parsed, 'command' | 'matricule'> = { eraseNow: false, json: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--oid' || arg === '--reason') {
      const value = rest[++i];
      if (value === undefined) return `${arg} takes a value`;
      if (arg === '--oid') out.oid = value;
      else out.reason = value;
    } else if (arg === '--erase-now') out.eraseNow = true;
    else if (arg === '--json') out.json = true;
    else if (arg.startsWith('--')) return `Unknown option: ${arg}`;
    else if (matricule === undefined) matricule = arg;
    else return `Unexpected argument: ${arg}`;
  }
  if (!matricule) return 'A matricule is required';
  if (command === 'suspend' && !out.reason) return 'suspend needs --reason "…"';
  return { command: command as Command, matricule, ...out };
}

function operatorId(): string {
  const fromEnv = process.env.CARNET_OPERATOR?.trim();
  if (fromEnv) return fromEnv;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

const line = (label: string, value: string | number | null | undefined): string =>
  `  ${label.padEnd(20)} ${value ?? '—'}\n`;

function formatOverview(p: PersonOverview): string {
  let out = `${p.given} ${p.family} (${p.ins.matricule}, OID ${p.ins.oid})\n`;
  out += line('patient id', p.id);
  out += line('birth date', p.birthDate);
  out += line('sex', p.sex);
  out += line('e-mail', p.email);
  out += line('origin', p.origin);
  out += line('status', `${p.status}${p.statusChangedAt ? ` since ${p.statusChangedAt}` : ''}`);
  out += line('activated', p.activatedAt ?? 'never');
  out += line('opposition deadline', p.oppositionDeadline);
  if (p.opposition)
    out += line('opposition', `${p.opposition.reference} on ${p.opposition.at} (${p.opposition.channel})`);
  if (p.suspension)
    out += line(
      'suspension',
      `since ${p.suspension.since} by ${p.suspension.by}, closes ${p.suspension.deadline}: ${p.suspension.reason}`,
    );
  out += line('closed', p.closedAt);
  out += line('erased after', p.eraseAfter);
  out += line('live sessions', p.liveSessions);
  out += `  notices (${p.notices.length})\n`;
  for (const n of p.notices)
    out += `    ${n.createdAt}  ${n.kind.padEnd(14)} ${n.channel.padEnd(7)} ${n.deliveredAt ? `delivered ${n.deliveredAt}` : 'pending'}\n`;
  out += `  represented by (${p.representedBy.length})\n`;
  for (const r of p.representedBy)
    out += `    ${r.role ?? '?'}: ${r.personId ?? '?'}${r.endsAt ? ` until ${r.endsAt}` : ''}\n`;
  out += `  represents (${p.represents.length})\n`;
  for (const r of p.represents)
    out += `    ${r.role ?? '?'} of ${r.patientId}${r.endsAt ? ` until ${r.endsAt}` : ''}\n`;
  return out;
}

function formatState(verb: string, s: SpaceState): string {
  let out = `${verb}: status ${s.status}\n`;
  if (s.suspensionDeadline) out += `  closes on ${s.suspensionDeadline} unless lifted\n`;
  if (s.closedAt) out += `  closed at ${s.closedAt}\n`;
  if (s.eraseAfter) out += `  erased after ${s.eraseAfter}\n`;
  return out;
}

/** `carnet person show|reissue-code|suspend|unsuspend|close|reopen …`. Returns the exit code. */
export async function personCommand(runtime: Runtime, args: string[]): Promise<number> {
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    process.stderr.write(`${parsed}\n${PERSON_USAGE}\n`);
    return 2;
  }
  const ctx = runtime.ctx;
  const operator = operatorActor(operatorId());
  const write = (text: string, value: unknown): void => {
    process.stdout.write(parsed.json ? JSON.stringify(value, null, 2) + '\n' : text);
  };
  try {
    const person = await findPersonByMatricule(ctx, parsed.matricule, parsed.oid);
    switch (parsed.command) {
      case 'show': {
        const overview = await showPerson(ctx, operator, person.id);
        write(formatOverview(overview), overview);
        break;
      }
      case 'reissue-code': {
        const r = await reissueCode(ctx, operator, person.id);
        write(
          `A new provisional code was issued (valid until ${r.expiresAt}); the previous ones no longer work.\n` +
            `It is sent to the person by ${r.channel === 'email' ? 'e-mail' : 'letter'} and is not shown here.\n`,
          r,
        );
        break;
      }
      case 'suspend': {
        const s = await suspendSpace(ctx, operator, person.id, parsed.reason ?? '');
        write(formatState('Suspended', s), s);
        break;
      }
      case 'unsuspend': {
        const s = await unsuspendSpace(ctx, operator, person.id);
        write(formatState('Suspension lifted', s), s);
        break;
      }
      case 'close': {
        const s = await closeSpace(ctx, operator, person.id, { eraseNow: parsed.eraseNow });
        write(formatState('Closed', s), s);
        break;
      }
      case 'reopen': {
        const s = await reopenSpace(ctx, operator, person.id);
        write(formatState('Re-opened', s), s);
        break;
      }
    }
    return 0;
  } catch (err) {
    if (err instanceof AppError) {
      process.stderr.write(`carnet person ${parsed.command}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
