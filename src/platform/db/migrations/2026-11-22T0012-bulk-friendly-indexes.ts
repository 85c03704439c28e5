import type { Kysely } from 'kysely';
import { runStatements } from './run-statements.ts';

/**
 * Fewer index writes per person created (the population import writes millions of rows):
 * - logins are unique only where set (most imported people have none yet): a partial unique index
 *   instead of the unique constraint, which indexed every NULL;
 * - provisional codes are found by patient through the primary key (patient_id, id) already;
 * - the provisioning notice (and its code) is made by the notice job, not by the import: the import
 *   writes one row per person, and the job finds who still needs a notice through a partial index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    create unique index patients_login_unique on patients (login) where login is not null;
    alter table patients drop constraint patients_login_key;
    drop index provisional_codes_live;
    alter table patients add column provisioning_notice_at timestamptz;
    create index patients_provisioning_due on patients (id) where account_status = 'pending' and provisioning_notice_at is null;
    `,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await runStatements(
    db,
    `
    drop index patients_provisioning_due;
    alter table patients drop column provisioning_notice_at;
    create index provisional_codes_live on provisional_codes (patient_id) where used_at is null and revoked_at is null;
    alter table patients add constraint patients_login_key unique (login);
    drop index patients_login_unique;
    `,
  );
}
