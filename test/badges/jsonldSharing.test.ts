import jsonld from 'jsonld';
import { getInitialContext, type ActiveContext } from 'jsonld/lib/context.js';
import { documentLoader, OB3_CONTEXT, VC2_CONTEXT } from '../../src/badges/contexts';
import { jsonldSharing, shareTermDefinitions } from '../../src/badges/jsonldSharing';
import '../../src/badges/signing';

/**
 * The signer makes jsonld copy active contexts without deep-cloning term definitions (jsonldSharing.ts). The
 * copy must be jsonld's own, field for field, with equal content; only the definitions are shared. (That the
 * output bytes are unchanged is checked by golden.test.ts and canonicalCache.test.ts.)
 */

const processContext = (jsonld as unknown as { processContext(a: ActiveContext, l: unknown, o: object): Promise<ActiveContext> }).processContext;

test('is installed on jsonld 9.0.0 once the signer is loaded', () => {
  expect(jsonldSharing.status()).toBe('installed');
  expect(shareTermDefinitions()).toBe('installed');
  expect(getInitialContext({}).clone).toBe(jsonldSharing.sharingClone);
  expect(jsonldSharing.originalClone()?.name).toBe('_cloneActiveContext');
});

test('copies what jsonld’s clone copies, sharing the (unchanged) term definitions', async () => {
  const active = await processContext(getInitialContext({}), [VC2_CONTEXT, OB3_CONTEXT], { documentLoader: documentLoader() });
  expect(active.mappings.size).toBeGreaterThan(40);
  const withPrevious: ActiveContext = { ...active, previousContext: active, '@vocab': 'https://example.org/vocab#' };
  const deep = jsonldSharing.originalClone()!.call(withPrevious);
  const shared = jsonldSharing.sharingClone.call(withPrevious);
  expect(Object.keys(shared).sort()).toEqual(Object.keys(deep).sort());
  expect(shared.mappings).toEqual(deep.mappings);
  expect(shared.protected).toEqual(deep.protected);
  expect(shared.previousContext!.mappings).toEqual(deep.previousContext!.mappings);
  expect(shared['@vocab']).toBe('https://example.org/vocab#');
  // New containers (the copy can be changed without touching the original), shared definitions.
  expect(shared.mappings).not.toBe(active.mappings);
  expect(shared.protected).not.toBe(active.protected);
  expect(shared.mappings.get('Achievement')).toBe(active.mappings.get('Achievement'));
  expect(deep.mappings.get('Achievement')).not.toBe(active.mappings.get('Achievement'));
  shared.mappings.delete('Achievement');
  expect(active.mappings.has('Achievement')).toBe(true);
});
