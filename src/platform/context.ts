import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { BlobStore } from './blob-store.ts';
import type { Clock } from './clock.ts';
import type { MasterKey } from './crypto.ts';
import type { Db, Queryable } from './db/database.ts';
import type { EventSink } from './events.ts';

/**
 * What every service function receives first: `fn(ctx, input)`. `db` may be a transaction;
 * `rootDb` is never one (used to record denials after a rollback). No global singletons.
 */
export interface Ctx {
  readonly db: Queryable;
  readonly rootDb: Db;
  readonly blobs: BlobStore;
  readonly masterKey: MasterKey;
  readonly clock: Clock;
  readonly config: Config;
  readonly log: Logger;
  readonly requestId?: string;
  /** Where domain events go (notifications); absent means nowhere. */
  readonly events?: EventSink;
}
