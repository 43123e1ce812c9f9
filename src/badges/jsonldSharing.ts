import { getInitialContext, type ActiveContext } from 'jsonld/lib/context.js';
import { version as jsonldVersion } from 'jsonld/package.json';

/**
 * jsonld.js copies the whole active context every time it enters a node with a type-scoped context, and its copy
 * (`_cloneActiveContext`) deep-clones every term definition, scoped contexts included (upstream:
 * digitalbazaar/jsonld.js#414, open since 2020). OB 3.0 gives every type a scoped context, and its type terms carry
 * those (large) scoped contexts in their definitions, so a credential spent most of its expansion time, and made
 * most of its garbage, deep-copying the same definitions over and over (a Tech Leader credential: 40 typed nodes).
 *
 * Term definitions are never changed once made: context processing always works on a fresh copy of the active
 * context, replaces a redefined term with a new definition object, and sets `protected` only on the definition it
 * is creating. So a copy may share them. `sharingClone` is `_cloneActiveContext` field for field, except that it
 * copies the term map and the protected flags one level deep instead of deep-cloning the definitions.
 *
 * Installed on jsonld's initial contexts (every active context inherits `clone` from the initial context it was
 * made from), only for the jsonld version this was checked against and only if the initial context has the
 * expected shape; otherwise jsonld stays as it is (slower, same output). The output is unchanged: the golden
 * vector, and test/badges/canonicalCache.test.ts against DCC's separate JSON-LD implementation, check the bytes.
 * It affects every user of the `jsonld` package in the process (e.g. @digitalbazaar/vc in tests), not our verifier,
 * which uses DCC's fork.
 */

export const CHECKED_JSONLD_VERSION = '9.0.0';

let originalClone: ((this: ActiveContext) => ActiveContext) | undefined;
let status = 'not installed';

function sharingClone(this: ActiveContext): ActiveContext {
  const child: ActiveContext = {
    mappings: new Map(this.mappings),
    clone: this.clone,
    inverse: null,
    getInverse: this.getInverse,
    protected: { ...this.protected },
    revertToPreviousContext: this.revertToPreviousContext,
  };
  if (this.previousContext) child.previousContext = this.previousContext.clone();
  if ('@base' in this) child['@base'] = this['@base'];
  if ('@language' in this) child['@language'] = this['@language'];
  if ('@vocab' in this) child['@vocab'] = this['@vocab'];
  return child;
}

/** Installs `sharingClone` (idempotent); returns the status ('installed' or why not). */
export function shareTermDefinitions(): string {
  if (status === 'installed') return status;
  if (jsonldVersion !== CHECKED_JSONLD_VERSION) return (status = `not installed: jsonld ${jsonldVersion} is not ${CHECKED_JSONLD_VERSION}, re-check jsonldSharing.ts`);
  const initials = [undefined, 'json-ld-1.1', 'json-ld-1.0'].map((processingMode) => getInitialContext({ processingMode }));
  for (const init of initials) {
    const ok = init.mappings instanceof Map && init.mappings.size === 0 && typeof init.protected === 'object' && typeof init.clone === 'function' && (init.clone === sharingClone || init.clone.name === '_cloneActiveContext');
    if (!ok) return (status = 'not installed: jsonld’s initial context is not shaped as expected');
  }
  for (const init of initials) {
    if (init.clone !== sharingClone) originalClone = init.clone;
    init.clone = sharingClone;
  }
  return (status = 'installed');
}

/** For tests: the status, jsonld's own clone and ours. */
export const jsonldSharing = {
  status: () => status,
  originalClone: () => originalClone,
  sharingClone,
};
