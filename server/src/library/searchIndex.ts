/**
 * The full-text index over the library's `.vscan` files (MiniSearch: BM25+ ranking, prefix
 * and fuzzy terms, JSON serialisation; English terms stemmed with the Porter stemmer).
 * Pure: files come in as parses with a stamp that says which version of the file they are,
 * so an unchanged file is never indexed twice. Ranking: docs/library.md.
 */
import MiniSearch, { type SearchResult } from 'minisearch';
import { stemmer } from 'stemmer';
import type { VscanDocument } from '../language';
import { type LibraryEntry, libraryEntries } from './entries';

/** Bump when what is indexed or how terms are processed changes: an older saved index is rebuilt. */
export const INDEX_FORMAT = 1;

/** Scene paragraphs are long and general; an event that matches as well ranks above them. */
const SCENE_BOOST = 0.6;

/** One file's record: which version was indexed, its video, and the ids of its entries. */
interface FileRecord {
  stamp: string;
  video?: string;
  count: number;
}

/** A stored entry: what a search result needs without reading the file again. */
interface StoredEntry extends LibraryEntry {
  file: string;
}

/** One search hit. */
export interface LibraryHit extends LibraryEntry {
  /** The `.vscan` file (absolute path). */
  vscan: string;
  /** Its video (absolute path), when the file links one. */
  video?: string;
  /** BM25+ score (higher is better; comparable within one query only). */
  score: number;
}

/** Lower-case and stem a term; numbers and one-letter words are kept as they are. */
export function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (!lower) return null;
  return /^[a-z]{3,}$/.test(lower) ? stemmer(lower) : lower;
}

const OPTIONS = {
  fields: ['text'],
  storeFields: ['file', 'kind', 'line', 'start', 'end', 'text'],
  processTerm,
  searchOptions: {
    // Prefix matches let a word still being typed match; fuzzy ones forgive a typo in longer words.
    prefix: (term: string) => term.length >= 3,
    fuzzy: (term: string) => (term.length >= 5 ? 0.2 : false),
    boostDocument: (_id: unknown, _term: string, stored?: Record<string, unknown>) => (stored?.kind === 'scene' ? SCENE_BOOST : 1),
  },
};

export class LibraryIndex {
  private constructor(
    private readonly search_: MiniSearch<StoredEntry & { id: string }>,
    private readonly files: Map<string, FileRecord>,
  ) {}

  static empty(): LibraryIndex {
    return new LibraryIndex(new MiniSearch(OPTIONS), new Map());
  }

  /** An index saved by `toJSON`; an empty one when it is of another format (it is then rebuilt as files are seen). */
  static fromJSON(json: string): LibraryIndex {
    try {
      const saved = JSON.parse(json) as { format?: number; files?: [string, FileRecord][]; index?: unknown };
      if (saved.format !== INDEX_FORMAT || !Array.isArray(saved.files) || !saved.index) return LibraryIndex.empty();
      return new LibraryIndex(MiniSearch.loadJS(saved.index as never, OPTIONS), new Map(saved.files));
    } catch {
      return LibraryIndex.empty();
    }
  }

  toJSON(): { format: number; files: [string, FileRecord][]; index: unknown } {
    return { format: INDEX_FORMAT, files: [...this.files], index: this.search_.toJSON() };
  }

  /** Files indexed, and entries in the index. */
  get size(): { files: number; entries: number } {
    return { files: this.files.size, entries: this.search_.documentCount };
  }

  /** Whether `file` is indexed at exactly this version. */
  isCurrent(file: string, stamp: string): boolean {
    return this.files.get(file)?.stamp === stamp;
  }

  /** The files indexed. */
  indexedFiles(): string[] {
    return [...this.files.keys()];
  }

  /** Indexes a file's parse (replacing what was indexed of it before). */
  update(file: string, stamp: string, doc: VscanDocument | undefined, video?: string): void {
    this.remove(file);
    const entries = doc ? libraryEntries(doc) : [];
    this.search_.addAll(entries.map((entry, i) => ({ ...entry, file, id: `${file}#${i}` })));
    this.files.set(file, { stamp, video, count: entries.length });
  }

  remove(file: string): void {
    const record = this.files.get(file);
    if (!record) return;
    for (let i = 0; i < record.count; i++) this.search_.discard(`${file}#${i}`);
    this.files.delete(file);
  }

  /** The best `limit` entries for `query`, best first. */
  search(query: string, limit = 50): LibraryHit[] {
    const results: SearchResult[] = this.search_.search(query);
    return results.slice(0, limit).map((r) => {
      const file = r.file as string;
      return {
        kind: r.kind as LibraryEntry['kind'], line: r.line as number, start: r.start as number, end: r.end as number, text: r.text as string,
        vscan: file, video: this.files.get(file)?.video, score: r.score,
      };
    });
  }
}
