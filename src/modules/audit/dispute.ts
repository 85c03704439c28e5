/**
 * "Report this access": a person disputes an event of their record's history. Operators review it:
 * open → in_review → resolved | rejected (an open dispute may also be closed directly).
 */

export const DISPUTE_STATUSES = ['open', 'in_review', 'resolved', 'rejected'] as const;

export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

const NEXT: Readonly<Record<DisputeStatus, readonly DisputeStatus[]>> = {
  open: ['in_review', 'resolved', 'rejected'],
  in_review: ['resolved', 'rejected'],
  resolved: [],
  rejected: [],
};

/** @example canMoveDispute('open', 'in_review') // true; canMoveDispute('resolved', 'open') // false */
export function canMoveDispute(from: DisputeStatus, to: DisputeStatus): boolean {
  return NEXT[from].includes(to);
}

/** Whether the dispute still awaits an answer (only one such dispute per event). */
export function isPending(status: DisputeStatus): boolean {
  return status === 'open' || status === 'in_review';
}

export interface DisputeChange {
  at: Date;
  from: DisputeStatus | null;
  to: DisputeStatus;
  by: { kind: string; id: string | null };
  note: string | null;
}

export interface Dispute {
  id: string;
  patientId: string;
  eventId: string;
  status: DisputeStatus;
  comment: string;
  createdAt: Date;
  updatedAt: Date;
  /** Every status change, the opening first. */
  history: DisputeChange[];
}

export const MAX_DISPUTE_COMMENT = 2000;
export const MAX_DISPUTE_NOTE = 2000;
