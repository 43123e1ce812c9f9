/**
 * pglite-socket 0.2 queues each wire-protocol message on its own, so with several connections one client's
 * extended-protocol sequence (Parse, Bind, Describe, Execute … Sync) can be cut by another's: "unnamed prepared
 * statement does not exist". Real PostgreSQL keeps them per connection. This keeps a connection's sequence
 * together, as the library already does for a transaction: after Parse, Bind, Describe, Execute, Close
 * or Flush, only that connection's messages run until its Sync. Test-only (PGlite mode of globalSetup).
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

// Messages of an extended-protocol sequence; a Sync (or anything else, such as the start-up packet, which has no
// type byte, or a simple Query) ends it.
const IN_SEQUENCE = new Set([0x50 /* Parse */, 0x42 /* Bind */, 0x44 /* Describe */, 0x45 /* Execute */, 0x43 /* Close */, 0x48 /* Flush */]);

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
        open = IN_SEQUENCE.has(item.message[0] ?? 0) ? item.handlerId : null;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  }.bind(qm);
}
