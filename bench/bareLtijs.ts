/*
 * The comparison for `npm run bench:launch`: a bare ltijs 5.9.9 app (its own login, launch and ltik session) on the
 * same PostgreSQL plugin and the same machine, answering a launch with a small page. Started by bench/launch.ts.
 */
import http from 'node:http';
import express from 'express';
import { openDatabase } from '../src/db/database';
import { LtijsPostgresStore } from '../src/lti/ltijsStore';
import { createLtiProvider } from '../src/lti/ltijsTypes';

async function main() {
  const env = process.env;
  const db = await openDatabase({ url: env.DATABASE_URL, poolMax: 10 });
  const store = new LtijsPostgresStore(db.sql, { nonceTtlSeconds: 3600 });
  const lti = createLtiProvider();
  lti.setup(env.SECRET_KEY ?? 'bare-ltijs-secret-0123456789abcdef', { plugin: store }, { appRoute: '/launch', loginRoute: '/login', keysetRoute: '/keys', cors: false, cookies: { secure: false, sameSite: '' } });
  lti.onConnect(async (token, _req, res) => {
    res.send(`<!doctype html><html lang="en"><title>bare</title><h1>Hello ${String(token.userInfo?.name ?? token.user).replace(/[<&>"]/g, '')}</h1></html>`);
  });
  await store.setup();
  await lti.deploy({ serverless: true, silent: true });
  await lti.registerPlatform({
    url: env.PLATFORM_ISS!,
    name: 'bench',
    clientId: env.PLATFORM_CLIENT_ID!,
    authenticationEndpoint: env.PLATFORM_AUTH!,
    accesstokenEndpoint: env.PLATFORM_TOKEN!,
    authConfig: { method: 'JWK_SET', key: env.PLATFORM_JWKS! },
  });
  const app = express();
  app.use('/lti', lti.app);
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  server.listen(Number(env.PORT), '127.0.0.1', () => process.send?.('ready'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
