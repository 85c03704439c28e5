import type { Queryable } from './db/database.ts';

/**
 * Domain events published inside the transaction of the action that causes them, so whatever a
 * subscriber writes (a notification outbox row, say) commits or rolls back with the action. The
 * composition root wires subscribers; modules publish without knowing who listens.
 */
export interface DomainEvent {
  readonly type:
    | 'record.accessed'
    | 'emergency.opened'
    | 'document.added'
    | 'document.changed'
    | 'document.release_pending';
  readonly patientId: string;
  /** Ids and non-medical facts only: never a title, a type or any content. */
  readonly data: Readonly<Record<string, string | number | boolean | null>>;
}

export interface EventSink {
  publish(db: Queryable, event: DomainEvent): Promise<void>;
}

/** Publishes nowhere (tests and tools that do not notify). */
export const noEvents: EventSink = { publish: async () => undefined };
