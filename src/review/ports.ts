import type { Database, Orm } from '../db/database';
import type { JobQueue } from '../jobs/queue';
import type { CanvasAccess } from '../canvas/access';
import type { ReviewItemRow, ReviewRow } from './schema';

/**
 * What the review needs from the rest of microcred, as interfaces, so it does not depend on how the progress
 * engine (issue 4) stores evidence or how awards (issue 6) are made. The lead wires the real ones at merge.
 */

export interface EvidenceAttachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Set when the retention period ran out and the bytes were purged (src/privacy/retention.ts): metadata only. */
  purgedAt?: Date | string;
}

/** A Canvas rubric assessment as Canvas returns it (criterion id → points, rating, comment). */
export type CanvasRubricAssessment = Record<string, { points?: number | null; rating_id?: string | null; comments?: string | null }>;

export interface EvidenceSnapshot {
  /** The online text entry; may be HTML (Canvas's rich text). Always rendered as plain text. */
  text?: string;
  url?: string;
  attempt: number;
  submittedAt: Date | string;
  attachments: EvidenceAttachment[];
  canvasRubricAssessment?: CanvasRubricAssessment;
}

export interface EvidenceFile {
  bytes: Buffer;
  contentType: string;
  filename: string;
}

/** Reads the progress engine's evidence snapshots. Both answer undefined for an id of another tenant. */
export interface EvidenceSource {
  /** `tx`: read inside this transaction (the award reads evidence inside the decision's transaction). */
  snapshot(tenantId: string, snapshotId: string, tx?: Orm): Promise<EvidenceSnapshot | undefined>;
  attachment(tenantId: string, attachmentId: string): Promise<EvidenceFile | undefined>;
}

/**
 * Called inside the decision's transaction when an item is awarded (issue 6 issues the credential there, with
 * its outbox rows, so a decision and its award commit together or not at all).
 */
export type OnAward = (deps: ReviewDeps, e: { tx: Orm; item: ReviewItemRow; decision: ReviewRow }) => Promise<void>;

/**
 * Told, inside the same transaction, when an item is queued or decided, so the earner's progress follows the
 * review (in review → returned; “awarded” is the award command's). The progress engine provides it.
 */
export interface ProgressPort {
  itemChanged(tx: Orm, item: ReviewItemRow): Promise<void>;
}

/** Called inside the decision's transaction when an item is decided “not yet” (awards queue the educator's message). */
export type OnNotYet = (deps: ReviewDeps, e: { tx: Orm; item: ReviewItemRow; decision: ReviewRow }) => Promise<void>;

export interface ReviewDeps {
  db: Database;
  evidence: EvidenceSource;
  onAward: OnAward;
  progress: ProgressPort;
  onNotYet?: OnNotYet;
  /** Null only in unit tests that never decide "not yet". */
  jobs: JobQueue | null;
  canvas: CanvasAccess | null;
}
