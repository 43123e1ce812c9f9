import http from 'node:http';
import type { Config } from './config';
import { openDatabase, migrate, type Database } from './db/database';
import { createApp, type App } from './app';
import { logger } from './log';

export interface RunningServer {
  url: string;
  app: App;
  db: Database;
  server: http.Server;
  stop(): Promise<void>;
}

/**
 * Opens the database, migrates it, builds the app and listens. `stop` drains: the server stops
 * accepting, in-flight requests finish (up to `graceMs`), then ltijs and the database close.
 */
export async function startServer(config: Config, opts: { db?: Database; graceMs?: number } = {}): Promise<RunningServer> {
  const db = opts.db ?? (await openDatabase(config.database));
  await migrate(db);
  const app = await createApp(config, db);
  // After migrations: pg-boss installs its own schema, then every instance works the same queues.
  await app.jobs.start({ work: config.jobs.workers });
  await app.progress.schedule();
  await app.privacy.schedule();
  const server = http.createServer(app.app);
  server.keepAliveTimeout = 65_000; // longer than typical load balancer idle timeouts
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), opts.graceMs ?? 10_000);
      await closed;
      clearTimeout(timer);
      await app.jobs.stop();
      await app.close();
      if (!opts.db) await db.close();
    })());
  return { url, app, db, server, stop };
}

export function handleSignals(running: RunningServer): void {
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
