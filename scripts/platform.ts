/*
 * `npm run platform -- <command>`: register Canvas instances from the command line.
 *   add --issuer URL --client-id ID --auth-endpoint URL --token-endpoint URL --jwks-url URL [--name N] [--deployment ID]... [--inactive]
 *   add-deployment --issuer URL --client-id ID --deployment ID [--name N]
 *   list
 *   activate | deactivate --issuer URL --client-id ID
 *   remove --issuer URL --client-id ID
 * For hosted Canvas: issuer https://canvas.instructure.com, auth https://sso.canvaslms.com/api/lti/authorize_redirect,
 * JWKS https://sso.canvaslms.com/api/lti/security/jwks, token https://<your-school>.instructure.com/login/oauth2/token.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { openDatabase, migrate } from '../src/db/database';
import { startLti } from '../src/lti/provider';
import { Platforms } from '../src/lti/platforms';
import { PlatformAdmin } from '../src/lti/platformAdmin';
import { TenantRepository } from '../src/tenants/repository';

const HELP = readFileSync(__filename, 'utf8').split('*/')[0]!.replace('/*', '').replace(/^ \* ?/gm, '');

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'auth-endpoint': { type: 'string' },
      'token-endpoint': { type: 'string' },
      'jwks-url': { type: 'string' },
      name: { type: 'string' },
      deployment: { type: 'string', multiple: true },
      inactive: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (!command || values.help || command === 'help') {
    console.log(HELP.trim());
    return;
  }
  const need = (...keys: (keyof typeof values)[]) => {
    const missing = keys.filter((k) => !values[k]);
    if (missing.length) throw new Error(`${command} needs ${missing.map((k) => '--' + k).join(', ')} (see --help)`);
  };

  const config = loadConfig();
  const db = await openDatabase(config.database);
  await migrate(db);
  const { lti, store } = await startLti({ config, sql: db.sql, onLaunch: async () => '/', renderError: () => undefined });
  const admin = new PlatformAdmin(lti, new Platforms(lti), new TenantRepository(db.orm));
  try {
    switch (command) {
      case 'add': {
        need('issuer', 'client-id', 'auth-endpoint', 'token-endpoint', 'jwks-url');
        const p = await admin.register({
          issuer: values.issuer!,
          clientId: values['client-id']!,
          name: values.name ?? new URL(values.issuer!).host,
          authEndpoint: values['auth-endpoint']!,
          tokenEndpoint: values['token-endpoint']!,
          jwksUrl: values['jwks-url']!,
          deploymentIds: values.deployment ?? [],
          active: !values.inactive,
        });
        console.log(`Registered ${p.name}: issuer ${p.issuer}, client id ${p.clientId}, ${p.active ? 'active' : 'inactive'}; deployments: ${(values.deployment ?? []).join(', ') || 'none yet (add-deployment)'}`);
        break;
      }
      case 'add-deployment':
        need('issuer', 'client-id', 'deployment');
        for (const d of values.deployment!) await admin.addDeployment(values.issuer!, values['client-id']!, d, values.name);
        console.log(`Added deployment(s) ${values.deployment!.join(', ')}.`);
        break;
      case 'list': {
        const list = await admin.list();
        if (!list.length) console.log('No Canvas instance is registered yet.');
        for (const p of list) console.log(`${p.active ? 'active  ' : 'inactive'}  ${p.name}\n          issuer ${p.issuer}  client id ${p.clientId}\n          deployments: ${p.deployments.join(', ') || 'none'}`);
        break;
      }
      case 'activate':
      case 'deactivate':
        need('issuer', 'client-id');
        await admin.setActive(values.issuer!, values['client-id']!, command === 'activate');
        console.log(`${command === 'activate' ? 'Activated' : 'Deactivated'} ${values.issuer} / ${values['client-id']}.`);
        break;
      case 'remove':
        need('issuer', 'client-id');
        console.log((await admin.remove(values.issuer!, values['client-id']!)) ? 'Removed, with its deployments and their data.' : 'Nothing was registered with that issuer and client id.');
        break;
      default:
        throw new Error(`Unknown command "${command}". Commands: add, add-deployment, list, activate, deactivate, remove.`);
    }
  } finally {
    await lti.close({ silent: true }).catch(() => undefined);
    await store.Close().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
