import { ChangeLog } from '@app/common';
import type { Invalidation } from './key-events.js';

/** How long after an invalidation replies touching it are used but not cached: verifier replicas may lag the event. */
export const SETTLE_MS = 2_000;
/** A revoked key never works again; remembering it this long outlives any stale cache upstream. */
export const REVOKED_MEMORY_MS = 10 * 60_000;
/**
 * How long a change's number is kept: far past any verification in flight (VERIFY_TIMEOUT_MS).
 * Forgetting one is safe either way (the change log then assumes everything older changed).
 */
const NUMBERS_KEPT_MS = 60_000;

/** The entries a verify reply is about, each of which a key event may name. */
export type ReplyEntry = 'keyHash' | 'keyId' | 'account' | 'chatbot';

/** What a reply is about: the key presented, and for a valid key its id and account; the target asked for. */
export interface ReplySubject {
  keyHash: string;
  keyId: string | null;
  accountId: string | null;
  chatbotId: string | null;
}

/**
 * The gateway's policy over a ChangeLog, so that a reply racing a change is not trusted blindly:
 * - a reply is not cached when any entry it is about changed after its request was sent, or when
 *   events may have been missed since (`distrustAll`);
 * - nor while any of those entries is settling (changed in the last SETTLE_MS): a verifier
 *   replica may answer from its own cache before it has seen the same event;
 * - revoked key ids are refused outright for REVOKED_MEMORY_MS, whatever a (stale) reply says.
 */
export class InvalidationLog {
  private readonly log: ChangeLog<ReplyEntry, 'keyId'>;

  /**
   * `verifyTimeoutMs`: a reply comes at most that long after its request was sent, so an entry
   * settles for SETTLE_MS past it: a request sent while the entry settled is answered while it still does.
   */
  constructor(verifyTimeoutMs = 0, maxEntries = 100_000) {
    this.log = new ChangeLog({
      maxEntries,
      settleMs: SETTLE_MS + verifyTimeoutMs,
      numbersKeptMs: NUMBERS_KEPT_MS,
      refusalMs: { keyId: REVOKED_MEMORY_MS },
    });
  }

  /** Taken before a verification is sent, and given back to `mayCache` with its reply. */
  current(): number {
    return this.log.current();
  }

  changed(change: Invalidation, now: number): void {
    if (change.revoked && change.keyId) this.log.refuse('keyId', change.keyId, now);
    if (change.keyHash) this.log.changed('keyHash', change.keyHash, { settle: true }, now);
    if (change.keyId) this.log.changed('keyId', change.keyId, { settle: true }, now);
    if (change.accountId) this.log.changed('account', change.accountId, { settle: true }, now);
    if (change.chatbotId) this.log.changed('chatbot', change.chatbotId, { settle: true }, now);
  }

  /** Events may have been missed: no reply to a request sent before now is cached. */
  distrustAll(): void {
    this.log.distrustAll();
  }

  isRevoked(keyId: string, now: number): boolean {
    return this.log.refuses('keyId', keyId, now);
  }

  /** Whether the presented key changed after `sentAt` (what a verification not yet answered knows of its reply). */
  keyChangedSince(keyHash: string, sentAt: number): boolean {
    return this.log.changedSince('keyHash', keyHash, sentAt);
  }

  /**
   * Whether anything `subject` names changed after `sentAt`: a request that joined a verification
   * sent before some change checks the reply against it (the reply names the key id and account).
   */
  subjectChangedSince(subject: ReplySubject, sentAt: number, now: number): boolean {
    return (
      this.log.changedSince('keyHash', subject.keyHash, sentAt, now) ||
      (subject.keyId !== null && this.log.changedSince('keyId', subject.keyId, sentAt, now)) ||
      (subject.accountId !== null && this.log.changedSince('account', subject.accountId, sentAt, now)) ||
      (subject.chatbotId !== null && this.log.changedSince('chatbot', subject.chatbotId, sentAt, now))
    );
  }

  /** True when a reply about `subject` to a request sent at change number `sentAt` may be cached. */
  mayCache(subject: ReplySubject, sentAt: number, now: number): boolean {
    return (
      this.settledSince('keyHash', subject.keyHash, sentAt, now) &&
      (subject.keyId === null || this.settledSince('keyId', subject.keyId, sentAt, now)) &&
      (subject.accountId === null || this.settledSince('account', subject.accountId, sentAt, now)) &&
      (subject.chatbotId === null || this.settledSince('chatbot', subject.chatbotId, sentAt, now))
    );
  }

  /** Entries held (change numbers, settling entries, revoked key ids): each bounded by maxEntries. */
  get sizes(): { recent: number; settling: number; revoked: number } {
    const { changes, settling, refused } = this.log.sizes;
    return { recent: changes, settling, revoked: refused.keyId };
  }

  private settledSince(kind: ReplyEntry, id: string, sentAt: number, now: number): boolean {
    return !this.log.changedSince(kind, id, sentAt, now) && !this.log.isSettling(kind, id, now);
  }
}
