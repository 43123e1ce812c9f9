import crypto from 'node:crypto';
import jsonld from 'jsonld';
import { documentLoader } from './contexts';
import { shareTermDefinitions } from './jsonldSharing';

/**
 * JSON-LD → RDF for signing, with the part every credential of one achievement shares converted once.
 *
 * Why: JSON-LD expansion is most of a signature, and most of a credential is its `achievement` (a Tech Leader
 * credential's achievement is 9.6 KB of its 13 KB and 28 of its 40 typed nodes), which is the same for every
 * credential of a published version; the issuer Profile (and the `source` Profile, by default the issuer) is the
 * same for every credential of a tenant.
 *
 * How: a cacheable subtree (an embedded node object with an absolute IRI `id`, at `issuer`,
 * `credentialSubject.achievement` or `credentialSubject.source`) is converted inside a *wrapper* document with the
 * credential's own `@context`, the credential's `type`, and (below `credentialSubject`) the subject's `type`, at
 * the same property: JSON-LD's active context at a node depends only on the contexts, the types (type-scoped
 * contexts) and the properties (property-scoped contexts) on the path to it, so the subtree expands to exactly
 * the quads it has inside the credential. The wrapper's two nodes get reserved IRIs so their own quads can be
 * dropped. The rest of the credential (the *skeleton*: the subtrees replaced by `{id}` references, which give the
 * same linking quad) is converted per credential, in safe mode like the subtrees, and the datasets are merged.
 *
 * RDFC-1.0 output depends only on the dataset up to blank node renaming, so the cached blank nodes are renamed
 * apart (prefix `x<n>`, never `c14n`: rdf-canonize treats labels starting with `c14n` as already canonical).
 * Merging is a plain union only when no IRI node is described in two parts (JSON-LD would merge such nodes):
 * otherwise, and for anything unusual (an embedded `@context`, explicit blank node ids, a subject array, ...),
 * the whole document takes the uncached path. test/badges/canonicalCache.test.ts checks cached == uncached,
 * byte for byte, on varied credentials.
 *
 * The cache is keyed by the SHA-256 of (contexts, credential type, subject type, property, subtree JSON): a
 * changed achievement or profile is a different key, never a stale hit. In-process LRU, `MAX_ENTRIES` entries.
 */

export interface Term {
  termType: 'NamedNode' | 'BlankNode' | 'Literal' | 'DefaultGraph';
  value: string;
  datatype?: { termType: 'NamedNode'; value: string };
  language?: string;
}
export interface Quad {
  subject: Term;
  predicate: Term;
  object: Term;
  graph: Term;
}
type Json = Record<string, unknown>;

// Before the first conversion, so that every active context the signer makes inherits the cheap copy.
shareTermDefinitions();

const contextsOnly = documentLoader();
const TO_RDF = { base: null, safe: true, rdfDirection: 'i18n-datatype', produceGeneralizedRdf: false, documentLoader: contextsOnly } as const;

/** The RDF dataset of a JSON-LD document, exactly as the eddsa-rdfc-2022 cryptosuite computes it (safe mode). */
export async function toDataset(doc: Json): Promise<Quad[]> {
  const out = await jsonld.toRDF(doc, TO_RDF);
  if (!Array.isArray(out)) throw new Error('jsonld.toRDF did not return a dataset');
  return out as Quad[];
}

const WRAPPER_CREDENTIAL = 'urn:microcred:rdf-wrapper:credential';
const WRAPPER_SUBJECT = 'urn:microcred:rdf-wrapper:subject';
const MAX_ENTRIES = 256;

type Path = 'issuer' | 'achievement' | 'source';

interface Entry {
  quads: readonly Quad[];
  /** IRIs of the nodes the subtree describes (subjects of its quads). */
  subjects: ReadonlySet<string>;
  hasBlankNodes: boolean;
  /** false: the subtree cannot be separated from its wrapper (it refers back to it); convert credentials whole. */
  usable: boolean;
}

class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  clear(): void {
    this.map.clear();
  }
  get size(): number {
    return this.map.size;
  }
}

const entries = new Lru<Promise<Entry>>(MAX_ENTRIES);
const counters = { hits: 0, misses: 0, whole: 0, fallbacks: 0 };

/**
 * For tests and the benchmark: cache size and counters: hits and misses per cached part; `whole`: documents with
 * nothing to cache (status lists, proof options), converted whole; `fallbacks`: documents with cacheable parts
 * that could not be separated (a node described twice), converted whole.
 */
export const subtreeCache = {
  stats: () => ({ size: entries.size, ...counters }),
  clear: () => {
    entries.clear();
    counters.hits = counters.misses = counters.whole = counters.fallbacks = 0;
  },
};

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:/;

interface Subtree {
  /** Where the nodes sit, and their JSON. */
  at: { path: Path; value: Json }[];
  key: string;
  wrapper: Json;
}

/** A node worth caching (an embedded node object with an absolute IRI id and content), else false: it then stays in the skeleton. */
function cacheable(value: unknown): value is Json & { id: string } {
  if (!isObject(value) || typeof value.id !== 'string' || !ABSOLUTE_IRI.test(value.id) || value.id.startsWith('_:')) return false;
  if (Object.keys(value).length < 2) return false; // already a bare reference
  const json = JSON.stringify(value);
  // Embedded contexts change the active context, explicit blank node ids could link the subtree to the rest:
  // both are fine for JSON-LD but not for caching, so such a node is converted with the credential.
  return !json.includes('"@context"') && !json.includes('"_:') && !json.includes('urn:microcred:rdf-wrapper:');
}

/**
 * The skeleton and the cacheable groups of a credential: the achievement; the issuer and source Profiles
 * together (the source is the issuer unless a reviewing organisation is named, and one wrapper lets JSON-LD merge
 * the two as it does in the credential). Undefined when the document is not of the shape the cache handles (then
 * the caller converts it whole).
 */
function split(doc: Json): { skeleton: Json; groups: Subtree[] } | undefined {
  const ctx = doc['@context'];
  if (!Array.isArray(ctx) || !ctx.every((c) => typeof c === 'string')) return undefined;
  if ('@type' in doc || '@graph' in doc || '@included' in doc || '@reverse' in doc || '@nest' in doc) return undefined;
  const subject = doc.credentialSubject;
  const subjectOk = isObject(subject) && !('@context' in subject) && !('@type' in subject) && !('@reverse' in subject) && !('@included' in subject) && !('@nest' in subject);
  const skeleton: Json = { ...doc };
  const newSubject: Json | undefined = subjectOk ? { ...subject } : undefined;
  if (newSubject) skeleton.credentialSubject = newSubject;

  const groups: Subtree[] = [];
  const group = (paths: Path[]) => {
    const at: Subtree['at'] = [];
    for (const path of paths) {
      const value = path === 'issuer' ? doc.issuer : newSubject?.[path];
      if (!cacheable(value)) continue;
      at.push({ path, value });
      if (path === 'issuer') skeleton.issuer = { id: value.id };
      else newSubject![path] = { id: value.id };
    }
    if (!at.length) return;
    const subjectType = isObject(subject) ? subject.type : undefined;
    const wrapper: Json = { '@context': ctx, id: WRAPPER_CREDENTIAL, ...(doc.type !== undefined ? { type: doc.type } : {}) };
    const wrappedSubject: Json = { id: WRAPPER_SUBJECT, ...(subjectType !== undefined ? { type: subjectType } : {}) };
    for (const a of at) {
      if (a.path === 'issuer') wrapper.issuer = a.value;
      else wrappedSubject[a.path] = a.value;
    }
    if (Object.keys(wrappedSubject).some((k) => k !== 'id' && k !== 'type')) wrapper.credentialSubject = wrappedSubject;
    const key = crypto.createHash('sha256').update(JSON.stringify([ctx, doc.type ?? null, subjectType ?? null, at.map((a) => a.path)])).update('\u0000').update(JSON.stringify(at.map((a) => a.value))).digest('base64');
    groups.push({ at, key, wrapper });
  };
  group(['achievement']);
  group(['issuer', 'source']);
  return groups.length ? { skeleton, groups } : undefined;
}

async function fill(s: Subtree): Promise<Entry> {
  const quads: Quad[] = [];
  const subjects = new Set<string>();
  let hasBlankNodes = false;
  let usable = true;
  for (const q of await toDataset(s.wrapper)) {
    if (q.subject.termType === 'NamedNode' && (q.subject.value === WRAPPER_CREDENTIAL || q.subject.value === WRAPPER_SUBJECT)) continue;
    for (const t of [q.object, q.graph]) if (t.termType === 'NamedNode' && t.value.startsWith('urn:microcred:rdf-wrapper:')) usable = false;
    if (q.subject.termType === 'NamedNode') subjects.add(q.subject.value);
    if (q.subject.termType === 'BlankNode' || q.object.termType === 'BlankNode' || q.graph.termType === 'BlankNode') hasBlankNodes = true;
    quads.push(deepFreeze(q));
  }
  return { quads: Object.freeze(quads), subjects, hasBlankNodes, usable };
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v as object);
  return Object.freeze(o);
}

function entry(s: Subtree): Promise<Entry> {
  const hit = entries.get(s.key);
  if (hit) {
    counters.hits++;
    return hit;
  }
  counters.misses++;
  const p = fill(s);
  entries.set(s.key, p);
  p.catch(() => entries.delete(s.key));
  return p;
}

const rename = (t: Term, prefix: string): Term => (t.termType === 'BlankNode' ? { termType: 'BlankNode', value: prefix + t.value } : t);

/**
 * The RDF dataset of `doc`, equal (as a dataset) to `toDataset(doc)`: the credential's achievement and profiles
 * come from the cache, the rest is converted now.
 */
export async function toDatasetCached(doc: Json): Promise<Quad[]> {
  const parts = split(doc);
  if (!parts) {
    counters.whole++;
    return toDataset(doc);
  }
  const [skeletonQuads, ...cached] = await Promise.all([toDataset(parts.skeleton), ...parts.groups.map(entry)]);
  const described = new Set<string>();
  for (const q of skeletonQuads) if (q.subject.termType === 'NamedNode') described.add(q.subject.value);
  for (const e of cached) {
    if (!e.usable) {
      counters.fallbacks++;
      return toDataset(doc);
    }
    for (const iri of e.subjects) {
      if (described.has(iri)) {
        // A node described in two parts: JSON-LD merges such nodes property by property, which a union of quads
        // does not reproduce in every case. Convert the whole credential instead.
        counters.fallbacks++;
        return toDataset(doc);
      }
    }
    for (const iri of e.subjects) described.add(iri);
  }
  const out = skeletonQuads;
  for (const [i, e] of cached.entries()) {
    if (e.hasBlankNodes) {
      const prefix = `x${i}`;
      for (const q of e.quads) out.push({ subject: rename(q.subject, prefix), predicate: q.predicate, object: rename(q.object, prefix), graph: rename(q.graph, prefix) });
    } else {
      for (const q of e.quads) out.push(q);
    }
  }
  return out;
}
