/**
 * The full-text index over the library's `.vscan` files (MiniSearch: BM25+ ranking, prefix
 * and fuzzy terms, JSON serialisation; English terms stemmed with the Porter stemmer, common
 * words left out). Pure: files come in as parses with a stamp that says which version of
 * the file they are, so an unchanged file is never indexed twice. Ranking: docs/library.md.
 *
 * MiniSearch holds only the terms; each file's entries are kept once, compactly, in the
 * file's record (a saved index is read back at startup, and its size is that time).
 */
import MiniSearch from 'minisearch';
import { stemmer } from 'stemmer';
import type { VscanDocument } from '../language';
import { type LibraryEntry, libraryEntries } from './entries';

/** Bump when what is indexed or how terms are processed changes: an older saved index is rebuilt. */
export const INDEX_FORMAT = 2;

/** Scene paragraphs are long and general; an event that matches as well ranks above them. */
const SCENE_BOOST = 0.6;

/**
 * Words too common to tell one event from another. Leaving them out keeps every query from
 * touching every entry (BM25 would weigh them near zero anyway) and the index small.
 */
const STOP_WORDS = new Set(['a', 'an', 'and', 'are', 'as', 'at', 'be', 'by', 'for', 'from', 'in', 'into', 'is', 'it', 'its', 'of', 'on', 'onto', 'or', 'the', 'their', 'then', 'there', 'they', 'this', 'to', 'with']);

/** An entry as saved: [kind (0 event, 1 scene), line, start, end, text]. */
type SavedEntry = [0 | 1, number, number, number, string];

/** One file's record: which version was indexed, its video, the id of its first entry, its entries. */
interface FileRecord {
  stamp: string;
  video?: string;
  firstId: number;
  entries: SavedEntry[];
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

/** Lower-case and stem a term; common words are dropped; numbers and short words are kept as they are. */
export function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (!lower || STOP_WORDS.has(lower)) return null;
  return /^[a-z]{3,}$/.test(lower) ? stemmer(lower) : lower;
}

export class LibraryIndex {
  private readonly terms: MiniSearch<{ id: number; text: string }>;
  /** Entry id → the file holding it (its index there is id − firstId). */
  private readonly owners = new Map<number, string>();

  private constructor(private readonly files: Map<string, FileRecord>, private nextId: number, saved?: unknown) {
    const options = {
      fields: ['text'],
      processTerm,
      searchOptions: {
        // A prefix lets the word still being typed (the last) match; fuzzy forgives a typo in longer words.
        prefix: (term: string, i: number, all: string[]) => i === all.length - 1 && term.length >= 3,
        fuzzy: (term: string) => (term.length >= 5 ? 0.2 : false),
        boostDocument: (id: number) => (this.entryOf(id)?.[0] === 1 ? SCENE_BOOST : 1),
      },
    };
    this.terms = saved ? MiniSearch.loadJS(saved as never, options) : new MiniSearch(options);
    for (const [file, record] of files) for (let i = 0; i < record.entries.length; i++) this.owners.set(record.firstId + i, file);
  }

  static empty(): LibraryIndex {
    return new LibraryIndex(new Map(), 0);
  }

  /** An index saved by `toJSON`; an empty one when it is of another format (it is then rebuilt as files are seen). */
  static fromJSON(json: string): LibraryIndex {
    try {
      const saved = JSON.parse(json) as { format?: number; nextId?: number; files?: [string, FileRecord][]; terms?: unknown };
      if (saved.format !== INDEX_FORMAT || !Array.isArray(saved.files) || !saved.terms || typeof saved.nextId !== 'number') return LibraryIndex.empty();
      return new LibraryIndex(new Map(saved.files), saved.nextId, saved.terms);
    } catch {
      return LibraryIndex.empty();
    }
  }

  toJSON(): { format: number; nextId: number; files: [string, FileRecord][]; terms: unknown } {
    return { format: INDEX_FORMAT, nextId: this.nextId, files: [...this.files], terms: this.terms.toJSON() };
  }

  /** Files indexed, and entries in the index. */
  get size(): { files: number; entries: number } {
    return { files: this.files.size, entries: this.owners.size };
  }

  /** Whether `file` is indexed at exactly this version. */
  isCurrent(file: string, stamp: string): boolean {
    return this.files.get(file)?.stamp === stamp;
  }

  /** The files indexed. */
  indexedFiles(): string[] {
    return [...this.files.keys()];
  }

  private entryOf(id: number): SavedEntry | undefined {
    const file = this.owners.get(id);
    const record = file === undefined ? undefined : this.files.get(file);
    return record?.entries[id - record.firstId];
  }

  /** Indexes a file's parse (replacing what was indexed of it before). */
  update(file: string, stamp: string, doc: VscanDocument | undefined, video?: string): void {
    this.remove(file);
    const entries: SavedEntry[] = (doc ? libraryEntries(doc) : []).map((e) => [e.kind === 'scene' ? 1 : 0, e.line, e.start, e.end, e.text]);
    const firstId = this.nextId;
    this.nextId += entries.length;
    this.files.set(file, { stamp, ...(video ? { video } : {}), firstId, entries });
    for (let i = 0; i < entries.length; i++) this.owners.set(firstId + i, file);
    this.terms.addAll(entries.map((entry, i) => ({ id: firstId + i, text: entry[4] })));
  }

  remove(file: string): void {
    const record = this.files.get(file);
    if (!record) return;
    for (let i = 0; i < record.entries.length; i++) {
      this.terms.discard(record.firstId + i);
      this.owners.delete(record.firstId + i);
    }
    this.files.delete(file);
  }

  /** The best `limit` entries for `query`, best first. */
  search(query: string, limit = 50): LibraryHit[] {
    const hits: LibraryHit[] = [];
    for (const result of this.terms.search(query)) {
      if (hits.length >= limit) break;
      const file = this.owners.get(result.id as number);
      const entry = this.entryOf(result.id as number);
      if (file === undefined || !entry) continue;
      const [kind, line, start, end, text] = entry;
      hits.push({ kind: kind === 1 ? 'scene' : 'event', line, start, end, text, vscan: file, ...(this.files.get(file)?.video ? { video: this.files.get(file)!.video } : {}), score: result.score });
    }
    return hits;
  }
}
