/* `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database. */
import { loadConfig } from '../src/config';
import { openDatabase, migrate } from '../src/db/database';

async function main() {
  const config = loadConfig();
  const db = await openDatabase(config.database);
  await migrate(db);
  await db.close();
  console.log(`Migrations applied (${db.kind}).`);
}
main().catch((err) => {
  console.error((err as Error).message);
  process.exit(1);
});
