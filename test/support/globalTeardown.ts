export default async function globalTeardown(): Promise<void> {
  const handle = globalThis.__MICROCRED_TEST_DB__;
  await handle?.drop?.();
  await handle?.stop?.();
}
