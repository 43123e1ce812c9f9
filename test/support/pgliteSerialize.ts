/**
 * pglite-socket 0.2 queues each wire-protocol message on its own, so with several connections one client's
 * extended-protocol sequence (Parse, Bind, Describe, Execute … Sync) can be cut by another's: "unnamed prepared
 * statement does not exist". Real PostgreSQL keeps them per connection. This keeps a connection's sequence
 * together, as the library already does for a transaction: after a message other than Sync, Query or
 * Terminate, only that connection's messages run until its Sync. Test-only (PGlite mode of globalSetup).
 */
interface QueuedMessage { handlerId: number; message: Uint8Array; resolve(n: number): void; reject(e: unknown): void; onData(d: Uint8Array): void }
interface QueueManager {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: { isInTransaction(): boolean; runExclusive<T>(fn: () => Promise<T>): Promise<T>; execProtocolRawStream(m: Uint8Array, o: { onRawData(d: Uint8Array): void }): Promise<unknown> };
  processQueue(): Promise<void>;
  clearQueueForHandler(id: number): void;
}

const ENDS_SEQUENCE = new Set([0x53 /* S: Sync */, 0x51 /* Q: simple Query */, 0x58 /* X: Terminate */]);

export function serializeExtendedProtocol(server: object): void {
  const qm = (server as { queryQueue: QueueManager }).queryQueue;
  let open: number | null = null;
  const clear = qm.clearQueueForHandler.bind(qm);
  qm.clearQueueForHandler = (id: number) => {
    if (open === id) open = null;
    clear(id);
    void qm.processQueue();
  };
  qm.processQueue = async function processQueue(this: QueueManager): Promise<void> {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const owner = open ?? (this.db.isInTransaction() ? this.lastHandlerId : null);
        const i = owner === null ? 0 : this.queue.findIndex((q) => q.handlerId === owner);
        if (i === -1) break; // wait for the owner's next message
        const item = this.queue.splice(i, 1)[0]!;
        let bytes = 0;
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(item.message, { onRawData: (d) => { bytes += d.length; item.onData(d); } }));
        } catch (err) {
          item.reject(err);
          continue;
        }
        this.lastHandlerId = item.handlerId;
        open = ENDS_SEQUENCE.has(item.message[0] ?? 0) ? null : item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }.bind(qm);
}
