import net from 'node:net';

/**
 * A TCP proxy in front of the test database, so a test can do to microcred what a PostgreSQL restart does: every
 * connection cut at once, and new ones refused for a while. (Restarting the shared server itself would break
 * every other test and helper using it.)
 */
export interface DbProxy {
  /** The DATABASE_URL to give the app: the real one with this proxy's port. */
  url: string;
  /** Cuts every open connection and refuses new ones for `downMs`. */
  restart(downMs: number): Promise<void>;
  /** Connections cut so far. */
  cut: number;
  close(): Promise<void>;
}

export async function startDbProxy(databaseUrl: string): Promise<DbProxy> {
  const target = new URL(databaseUrl);
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  const proxy: DbProxy = {
    url: url.toString(),
    cut: 0,
    async restart(downMs) {
      down = true;
      proxy.cut += sockets.size / 2;
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise((r) => setTimeout(r, downMs));
      down = false;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
