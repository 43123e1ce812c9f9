import { loadConfig } from './config';
import { logger } from './log';
import { startServer, handleSignals } from './server';
import { toolUrls } from './lti/toolConfiguration';

async function main() {
  const config = loadConfig();
  const running = await startServer(config);
  handleSignals(running);
  const urls = toolUrls(config);
  logger.info({ url: running.url, database: running.db.kind }, 'microcred is running');
  console.log(
    [
      '',
      `microcred is running at ${config.publicUrl} (${running.db.kind === 'pglite' ? `embedded database in ${config.database.pgliteDir}` : 'PostgreSQL'})`,
      '',
      'Register it in Canvas (Admin → Developer Keys → + LTI Key):',
      `  Dynamic Registration URL: ${urls.register}`,
      `  or JSON configuration URL: ${urls.jsonConfig}`,
      `  Redirect URI: ${urls.launch}`,
      '  or from the command line: npm run platform -- add --help',
      '',
    ].join('\n'),
  );
}

main().catch((err) => {
  logger.fatal({ err }, 'microcred could not start');
  console.error(`microcred could not start: ${(err as Error).message}`);
  process.exit(1);
});
