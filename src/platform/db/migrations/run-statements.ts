import { type Kysely, sql } from 'kysely';

/**
 * Runs a script of DDL statements one by one (drivers prepare one statement at a time).
 * Statements are separated by a semicolon at the end of a line; keep literals free of ";\n".
 */
export async function runStatements(db: Kysely<unknown>, script: string): Promise<void> {
  for (const statement of script
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter(Boolean)) {
    await sql.raw(statement.replace(/;$/, '')).execute(db);
  }
}
