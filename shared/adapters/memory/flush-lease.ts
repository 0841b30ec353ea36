import type { FlushLease, FlushLeaseState } from '../../domain/flush-coalescing.js';

/**
 * The stage's flush lease in memory, with the same atomic semantics as the DynamoDB one (each
 * method is one step): for unit tests and the revocation simulation (`npm run sim:revocation`).
 */
export class MemoryFlushLease implements FlushLease {
  private state: FlushLeaseState = { startedAt: 0, pendingSeq: 0, flushedSeq: 0 };
  /** Writes made, as the DynamoDB lease would bill them (a refused claim is still a write). */
  writes = 0;
  reads = 0;

  async read(): Promise<FlushLeaseState> {
    this.reads += 1;
    return { ...this.state };
  }

  async claim(now: number, intervalMs: number): Promise<{ pendingSeq: number } | undefined> {
    this.writes += 1;
    if (this.state.startedAt > now - intervalMs) return undefined;
    this.state.startedAt = now;
    return { pendingSeq: this.state.pendingSeq };
  }

  async markPending(_now: number): Promise<number> {
    this.writes += 1;
    this.state.pendingSeq += 1;
    return this.state.pendingSeq;
  }

  async markFlushed(seq: number): Promise<void> {
    this.writes += 1;
    this.state.flushedSeq = Math.max(this.state.flushedSeq, seq);
  }
}
