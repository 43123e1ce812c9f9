/**
 * The one internal of `jsonld` (9.0.0, pinned) that jsonldSharing.ts touches: the initial active context, whose
 * `clone` every derived active context inherits.
 */
declare module 'jsonld/lib/context.js' {
  export interface ActiveContext {
    mappings: Map<string, object>;
    protected: Record<string, boolean>;
    inverse: unknown;
    getInverse: unknown;
    clone: (this: ActiveContext) => ActiveContext;
    revertToPreviousContext: unknown;
    previousContext?: ActiveContext;
    '@base'?: unknown;
    '@language'?: unknown;
    '@vocab'?: unknown;
  }
  export function getInitialContext(options: { processingMode?: string }): ActiveContext;
}
