// Types of bin/source-bundle.mjs for the TypeScript code that opens the bundle (tests, bench).
export declare const BUNDLE_ENTRY_POINTS: readonly string[];

export interface SourceBundle {
  readonly kind: 'bundle';
  /** The build's directory: ENTENTE_BUNDLE_DIR of a process started from it. */
  readonly directory: string;
  /** The bundled file of an entry point given as a repository path (`src/cli/main.ts`). */
  entry(source: string): string;
}

export interface NoBundle {
  readonly kind: 'sources';
  readonly reason: string;
}

export declare function openSourceBundle(options?: { cacheDirectory?: string }): Promise<SourceBundle | NoBundle>;
