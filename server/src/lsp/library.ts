/**
 * The library in the language server: one index of the workspace's `.vscan` files, built
 * from the server's own parses (open documents at their version, the rest from disk by size
 * and modification time), kept in the client's storage between sessions, updated on file
 * events, answering `workspace/symbol`, `videoScan/searchLibrary` and `videoScan/thumbnail`.
 */
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type CancellationToken, type Connection, ErrorCodes, FileChangeType, type InitializeParams, LSPErrorCodes, ResponseError,
  type SymbolInformation, SymbolKind, type TextDocuments, type WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { VscanDocument } from '../language';
import { groundHits, type GroundingAnswer, type GroundingWindow, type RankedHit } from '../library/grounding';
import { indexFileFromDisk, indexFileFor, loadIndex, saveIndex, syncLibrary } from '../library/libraryFolders';
import { LibraryIndex } from '../library/searchIndex';
import { videoThumbnail } from '../video/thumbnail';
import { linkedVideoPath, siblingVideos } from '../workspace/videoContext';
import { ExportAnnotationsRequest, ImportAnnotationsRequest, type LibraryInitializationOptions, type LibrarySearchResult, SearchLibraryRequest, ThumbnailRequest } from './libraryProtocol';
import { AnnotationFormatError } from '../library/formats';
import { exportPath, importFile } from '../library/transfer';

/** Most symbols one `workspace/symbol` answer holds (the editor shows a list, not a dump). */
export const MAX_WORKSPACE_SYMBOLS = 200;
/** Most results and grounded hits one search answers. */
const MAX_SEARCH_RESULTS = 200;
const MAX_GROUNDED = 20;
/** The index is saved this long after the last change, not on every keystroke. */
const SAVE_DELAY_MS = 2000;
/** How long typing pauses before an open document is indexed again. */
const REINDEX_DELAY_MS = 400;

/** What the library needs from the rest of the server. */
export interface LibraryHost {
  connection: Connection;
  documents: TextDocuments<TextDocument>;
  /** The server's parse of a document at its current version (one owner per fact). */
  parsed(document: TextDocument): VscanDocument;
  trusted(): boolean;
  ffmpegPath(): string | undefined;
  ffprobePath(): string | undefined;
  /** Find within a stretch of a video, through the model job queue. */
  findWithin(video: string, query: string, within: GroundingWindow, signal: AbortSignal): Promise<GroundingAnswer>;
  progress(params: { workDoneToken?: string | number }): Promise<WorkDoneProgressReporter>;
  log(message: string): void;
}

function pathOf(uri: string): string | undefined {
  try {
    return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
  } catch {
    return undefined;
  }
}

export interface LibraryService {
  /** From `initialize`: the workspace folders and the storage folder. */
  initialize(params: InitializeParams): void;
  /** From `initialized`: load the saved index and bring it up to date in the background. */
  start(): void;
  /** Saves the index now if a save is pending (at shutdown). */
  flush(): Promise<void>;
}

export function registerLibrary(host: LibraryHost): LibraryService {
  let index = LibraryIndex.empty();
  let roots: string[] = [];
  let storage: string | undefined;
  let foldersChange = false;
  let truncated: string | undefined;
  let ready: Promise<void> = Promise.resolve();
  let saveTimer: NodeJS.Timeout | undefined;
  const { connection, documents } = host;

  const indexFile = () => (storage && roots.length ? indexFileFor(storage, roots) : undefined);

  function saveNow(): Promise<void> {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    const file = indexFile();
    return file ? saveIndex(file, index).then(() => undefined, (error: unknown) => host.log(`library index not saved: ${String(error)}`)) : Promise.resolve();
  }

  function scheduleSave(): void {
    if (!indexFile()) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => void saveNow(), SAVE_DELAY_MS);
    saveTimer.unref?.();
  }

  function openPaths(): Set<string> {
    return new Set(documents.all().map((d) => pathOf(d.uri)).filter((p): p is string => p !== undefined));
  }

  /** An open document is indexed from the editor's text at its version, not from disk. */
  async function indexOpen(document: TextDocument): Promise<void> {
    const path = pathOf(document.uri);
    const stamp = `open:${document.version}`;
    if (!path || index.isCurrent(path, stamp)) return;
    const doc = host.parsed(document);
    const siblings = await siblingVideos(dirname(path));
    if (documents.get(document.uri)?.version !== document.version) return; // superseded while the folder was read
    index.update(path, stamp, doc, linkedVideoPath(doc, path, siblings)?.path);
    scheduleSave();
  }

  /** Disk updates, one after another, in the order their notifications came; requests wait for them. */
  let updates: Promise<void> = Promise.resolve();
  function enqueue(update: () => Promise<void>): void {
    updates = updates.then(() => ready).then(update).then(scheduleSave, (error: unknown) => host.log(`library update failed: ${String(error)}`));
  }

  // Typing re-indexes a document once it pauses, not per keystroke: re-indexing a 10,000-event
  // file costs more than its validation, and every search indexes open documents first
  // (current()), so a search never sees a stale one.
  const typing = new Map<string, NodeJS.Timeout>();
  documents.onDidOpen((e) => void ready.then(() => indexOpen(e.document)));
  documents.onDidChangeContent((e) => {
    clearTimeout(typing.get(e.document.uri));
    const timer = setTimeout(() => {
      typing.delete(e.document.uri);
      const document = documents.get(e.document.uri);
      if (document) void ready.then(() => indexOpen(document));
    }, REINDEX_DELAY_MS);
    timer.unref?.();
    typing.set(e.document.uri, timer);
  });
  documents.onDidClose((e) => {
    clearTimeout(typing.get(e.document.uri));
    typing.delete(e.document.uri);
    const path = pathOf(e.document.uri);
    // Closed unsaved, the disk's version is the truth again.
    if (path) enqueue(async () => { await indexFileFromDisk(index, path, undefined); });
  });

  connection.onDidChangeWatchedFiles((params) => {
    const changes = params.changes.slice(0, 10_000); // bounded: a checkout can report thousands at once
    enqueue(async () => {
      const open = openPaths();
      for (const change of changes) {
        const path = pathOf(change.uri);
        if (!path || !path.endsWith('.vscan') || open.has(path)) continue;
        if (change.type === FileChangeType.Deleted) index.remove(path);
        else await indexFileFromDisk(index, path, undefined);
      }
    });
  });

  /** The index with every open document at its current version. */
  async function current(): Promise<void> {
    await ready;
    await updates;
    await Promise.all(documents.all().map(indexOpen));
  }

  connection.onWorkspaceSymbol(async (params): Promise<SymbolInformation[]> => {
    await current();
    if (!params.query.trim()) return [];
    return index.search(params.query, MAX_WORKSPACE_SYMBOLS).map((hit) => ({
      name: hit.text.length > 200 ? `${hit.text.slice(0, 199)}…` : hit.text,
      kind: hit.kind === 'event' ? SymbolKind.Event : SymbolKind.Namespace,
      location: { uri: pathToFileURL(hit.vscan).href, range: { start: { line: hit.line, character: 0 }, end: { line: hit.line, character: 0 } } },
      // The editor shows the file's name beside it already: the container says when.
      containerName: `${hit.start}–${hit.end} s`,
    }));
  });

  connection.onRequest(SearchLibraryRequest.type, async (params, token: CancellationToken) => {
    await current();
    const limit = Math.min(Math.max(1, params.limit ?? 50), MAX_SEARCH_RESULTS);
    const ground = Math.min(Math.max(0, params.ground ?? 0), MAX_GROUNDED);
    if (ground && !host.trusted()) throw new ResponseError(ErrorCodes.InvalidRequest, 'this workspace is not trusted; trust it to let the model check the results');
    const hits = index.search(params.query, Math.max(limit, ground));
    let ranked: RankedHit[] = hits.map((h) => ({ ...h, grounded: false }));
    if (ground) {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      const progress = await host.progress(params);
      progress.begin('Checking results with the model', 0, undefined, true);
      let done = 0;
      try {
        ranked = await groundHits(hits, ground, async (video, window) => {
          progress.report(Math.round((done++ / ground) * 100), `${video.split(/[\\/]/).pop()} ${window.start.toFixed(0)}–${window.end.toFixed(0)} s`);
          return host.findWithin(video, params.query, window, controller.signal);
        }, controller.signal);
      } catch (error) {
        if (controller.signal.aborted || (error as { cancelled?: boolean }).cancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
        throw new ResponseError(ErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
      } finally {
        progress.done();
      }
    }
    const results: LibrarySearchResult[] = ranked.slice(0, limit).map((h) => ({
      vscan: pathToFileURL(h.vscan).href, video: h.video ? pathToFileURL(h.video).href : null, kind: h.kind, line: h.line,
      start: h.start, end: h.end, description: h.text, score: h.score, grounded: h.grounded, ...(h.span ? { span: h.span } : {}),
    }));
    return { results, indexed: index.size, ...(truncated ? { truncated } : {}) };
  });

  connection.onRequest(ThumbnailRequest.type, async (params) => {
    const video = pathOf(params.video);
    // Untrusted: no ffmpeg runs. Without storage there is nowhere to put the still.
    if (!video || !storage || !host.trusted() || !Number.isFinite(params.time)) return null;
    try {
      return { file: pathToFileURL(await videoThumbnail(video, params.time, join(storage, 'thumbnails'), { ffmpegPath: host.ffmpegPath() })).href };
    } catch {
      return null; // a list without this picture is still a list
    }
  });

  /** A file: URI's path, or a one-line refusal. */
  function requirePath(uri: string | undefined, what: string): string {
    const path = uri && pathOf(uri);
    if (!path) throw new ResponseError(ErrorCodes.InvalidParams, `${what}: only file: URIs (got ${uri})`);
    return path;
  }

  /** Export and import errors are one line naming the file: sent as they are. */
  async function transfer<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw new ResponseError(error instanceof AnnotationFormatError ? ErrorCodes.InvalidParams : ErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
    }
  }

  connection.onRequest(ExportAnnotationsRequest.type, (params) => transfer(async () => {
    const source = requirePath(params.source, 'source');
    const out = params.out === undefined ? undefined : requirePath(params.out, 'out');
    // Untrusted: no ffprobe runs, so the dense captions' duration is the last event's end.
    const result = await exportPath(source, params.format, { out, replace: params.replace === true, probe: host.trusted() && { ffprobePath: host.ffprobePath() } });
    return { ...result, written: result.written.map((p) => pathToFileURL(p).href) };
  }));

  connection.onRequest(ImportAnnotationsRequest.type, (params) => transfer(async () => {
    const { written } = await importFile(requirePath(params.file, 'file'), params.out === undefined ? undefined : requirePath(params.out, 'out'));
    return { written: written.map((p) => pathToFileURL(p).href) };
  }));

  return {
    initialize(params) {
      const options = params.initializationOptions as LibraryInitializationOptions | undefined;
      storage = typeof options?.libraryStorage === 'string' && options.libraryStorage ? options.libraryStorage : undefined;
      const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
      roots = folders.map(pathOf).filter((p): p is string => p !== undefined);
      foldersChange = params.capabilities.workspace?.workspaceFolders === true;
    },
    start() {
      // A folder added to the workspace is indexed; a folder removed leaves the index.
      if (foldersChange) connection.workspace.onDidChangeWorkspaceFolders((event) => enqueue(async () => {
        const removed = event.removed.map((f) => pathOf(f.uri)).filter((p): p is string => p !== undefined);
        const added = event.added.map((f) => pathOf(f.uri)).filter((p): p is string => p !== undefined);
        const inside = (file: string, root: string) => !relative(root, file).startsWith('..') && !isAbsolute(relative(root, file));
        for (const file of index.indexedFiles()) if (removed.some((root) => inside(file, root)) && !added.some((root) => inside(file, root))) index.remove(file);
        roots = [...roots.filter((r) => !removed.includes(r)), ...added];
        if (added.length) await syncLibrary(index, added, { heldElsewhere: openPaths() });
      }));
      ready = (async () => {
        const file = indexFile();
        if (file) index = await loadIndex(file);
        if (roots.length) {
          const report = await syncLibrary(index, roots, { heldElsewhere: openPaths() });
          truncated = report.truncated;
          host.log(`library: ${index.size.files} .vscan files, ${index.size.entries} entries indexed (${report.indexed} read, ${report.unchanged} unchanged, ${report.removed} removed${report.skipped.length ? `, ${report.skipped.length} not indexed` : ''})${file ? ` — ${file}` : ''}`);
          for (const { file: skipped, reason } of report.skipped.slice(0, 20)) host.log(`library: not indexed: ${reason.startsWith(skipped) ? reason : `${skipped}: ${reason}`}`);
          if (report.indexed || report.removed) scheduleSave();
        }
        for (const document of documents.all()) await indexOpen(document);
      })().catch((error: unknown) => host.log(`library index failed: ${String(error)}`));
    },
    async flush() {
      await ready;
      if (saveTimer) await saveNow();
    },
  };
}
