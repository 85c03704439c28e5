import { AppError } from '../../errors.ts';
import type { Ctx } from '../../platform/context.ts';
import type { PatientActor } from '../access/index.ts';
import { profileKind, type ProfileKind } from './family.ts';
import * as repo from './family.repository.ts';

/**
 * The profiles a signed-in person may act in (DOMAIN §2): their own, and every record where they
 * hold a live representation — children (legal representative), protected adults (guardian),
 * people they help (caregiver, with the scopes the person chose). The web app sends the chosen
 * one as the X-Carnet-Profile header; the access decision checks the relationship on every request.
 */

export interface ProfileView {
  patientId: string;
  self: boolean;
  display: string;
  given: string;
  family: string;
  birthDate: string;
  kind: ProfileKind;
  role: 'self' | 'legal_representative' | 'guardian' | 'caregiver';
  /** For a caregiver: what the person let them see and do. Empty: everything (representatives). */
  scopes: string[];
  endsAt: string | null;
}

/** @example const profiles = await listProfiles(ctx, self); */
export async function listProfiles(ctx: Ctx, self: PatientActor): Promise<ProfileView[]> {
  const me = await repo.findPerson(ctx.db, self.patientId);
  if (!me) throw new AppError('unauthenticated', 'Please sign in');
  const own: ProfileView = {
    patientId: me.id,
    self: true,
    display: `${me.given} ${me.family}`,
    given: me.given,
    family: me.family,
    birthDate: me.birth_date,
    kind: 'self',
    role: 'self',
    scopes: [],
    endsAt: null,
  };
  const seen = new Set([me.id]);
  const others: ProfileView[] = [];
  const rows = await repo.listRepresented(ctx.db, self.patientId, ctx.clock.now());
  const rank = (role: string | null) => (role === 'caregiver' ? 1 : 0);
  for (const r of rows.sort((a, b) => rank(a.role) - rank(b.role))) {
    // One entry per person: a representative role wins over a caregiver's.
    if (seen.has(r.patient_id)) continue;
    seen.add(r.patient_id);
    const role = r.role === 'legal_representative' || r.role === 'guardian' ? r.role : 'caregiver';
    others.push({
      patientId: r.patient_id,
      self: false,
      display: `${r.given} ${r.family}`,
      given: r.given,
      family: r.family,
      birthDate: r.birth_date,
      kind: profileKind(r.role),
      role,
      scopes: role === 'caregiver' ? [...r.scopes] : [],
      endsAt: r.ends_at?.toISOString() ?? null,
    });
  }
  return [own, ...others];
}
