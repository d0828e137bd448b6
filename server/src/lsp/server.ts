/**
 * The language server: the only code that touches the LSP connection. It keeps a parse per
 * document version, gathers each document's video context, and answers requests through
 * the pure language service. Diagnostics are pushed (textDocument/publishDiagnostics).
 */
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  type CancellationToken,
  CodeActionKind,
  ErrorCodes,
  LSPErrorCodes,
  ResponseError,
  type WorkDoneProgressReporter,
  type WorkDoneProgressServerReporter,
  type Connection,
  type Diagnostic,
  DidChangeConfigurationNotification,
  TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import * as service from '../language';
import { ProbeCache } from '../video/probe';
import { killAllTools } from '../video/tools';
import { resolveDocumentContext } from '../workspace/videoContext';
import { candidateNames, checkWritableTarget, windowsToVscan, writeCaptionKeepingResult } from '../tasks/writeResult';
import { samplingFromEnv } from '../video/plan';
import { JobQueue } from './jobs';
import { TimelinePublisher } from './timelinePublisher';
import { documentFilmstrip } from './filmstripRequest';
import {
  type CaptionParams, CaptionRequest, type CaptionResponse, DocumentVideoRequest, FilmstripRequest, type FindParams, FindRequest, type FindResponse, type InitializationOptions,
  LoadEngineRequest, PartialTextNotification, StatusNotification, TimelineEditRequest, TimelineNotification, WatchTimelineNotification, WorkspaceTrustNotification,
} from './protocol';
import { engineSettings, readServerSettings, type ServerSettings } from './settings';
import { registerModelRequests } from './modelRequests';
import { registerLibrary } from './library';
import type { LibraryInitializationOptions } from './libraryProtocol';
import { pruneFolder } from '../io/pruneFolder';
import { modelLabel } from '../model/acquire/modelSpec';
import { ModelNotDownloadedError } from '../model/acquire/resolveModel';

/** Diagnostics never wait longer than this for a video probe; they are refreshed when it lands. */
const PROBE_WAIT_MS = 150;

interface DocumentState {
  version: number;
  parsed: service.VscanDocument;
  context: service.DocumentContext;
}

/** What the preview's proxies and filmstrips may take on disk (a proxy is ~10 MB a minute of video). */
export const PREVIEW_CACHE_BYTES = 2 * 2 ** 30;
/** What the library's thumbnails may take (each is a few kB). */
export const THUMBNAIL_CACHE_BYTES = 64 * 2 ** 20;

export function startServer(connection: Connection): void {
  const documents = new TextDocuments(TextDocument);
  const states = new Map<string, DocumentState>();
  const scheduled = new Set<string>();
  const running = new Map<string, Promise<void>>();
  let settings: ServerSettings = readServerSettings(undefined);
  let probes = new ProbeCache();
  let pullConfiguration = false;
  /** The workspace's trust, from the client; untrusted, no child process runs. */
  let trusted = true;
  /** Where the preview's filmstrips go (the client's storage). */
  let previewCache: string | undefined;
  /**
   * Settled once the client's configuration has been read: validation waits for it, so the
   * first diagnostics already use the user's settings (their ffprobe, their severities).
   */
  let settingsLoaded: Promise<void> = Promise.resolve();

  const log = (message: string) => connection.console.log(message);
  // The preview's timeline comes from the parse made for diagnostics (one parse per change).
  /** What the model is shown under the current settings (the timeline's row, the filmstrip). */
  const modelViewOptions = () => ({ sampling: { ...samplingFromEnv(), ...settings.sampling }, window: settings.window, overlap: settings.overlap });
  const timelines = new TimelinePublisher((params) => void connection.sendNotification(TimelineNotification.type, params), () => probes, modelViewOptions);

  /** Runs a handler, turning any exception into a logged message and an empty answer. */
  function guarded<A extends unknown[], R>(name: string, fallback: R, handler: (...args: A) => R | Promise<R>) {
    return async (...args: A): Promise<R> => {
      try {
        return await handler(...args);
      } catch (error) {
        connection.console.error(`${name} failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        return fallback;
      }
    };
  }

  /** The latest parse of each version that requests needed before validation caught up (large files wait for save). */
  const requestParses = new Map<string, { version: number; parsed: service.VscanDocument }>();

  function parsed(document: TextDocument): service.VscanDocument {
    const state = states.get(document.uri);
    if (state && state.version === document.version) return state.parsed;
    const cached = requestParses.get(document.uri);
    if (cached && cached.version === document.version) return cached.parsed;
    const fresh = service.parseVscan(document.getText());
    requestParses.set(document.uri, { version: document.version, parsed: fresh });
    return fresh;
  }

  function documentPath(uri: string): string | undefined {
    try {
      return uri.startsWith('file:') ? fileURLToPath(uri) : undefined;
    } catch {
      return undefined;
    }
  }

  async function validate(uri: string): Promise<void> {
    await settingsLoaded;
    const document = documents.get(uri);
    if (!document) return;
    // The TextDocument is updated in place by later changes: keep the version and text this
    // validation is of (comparing the object's version after the await compared it with itself).
    const version = document.version;
    const text = document.getText();
    const doc = service.parseVscan(text);
    const path = documentPath(uri);
    const resolved = path
      ? await resolveDocumentContext(doc, path, { probes, probeWaitMs: PROBE_WAIT_MS, trusted })
      : { context: {} };
    const current = documents.get(uri);
    if (!current || current.version !== version) return; // superseded; the newer version is queued
    states.set(uri, { version, parsed: doc, context: resolved.context });
    const all = service.validateVscan(doc, resolved.context, settings.language, uri);
    const large = text.length > service.LARGE_DOCUMENT_CHARS;
    const diagnostics: Diagnostic[] = [...(large ? [service.largeDocumentNotice(text.length)] : []), ...service.capDiagnostics(all)];
    await connection.sendDiagnostics({ uri, version, diagnostics });
    timelines.publish(uri, version, doc, all, resolved.context, settings.language.timeStyle);
    if (resolved.pendingProbe) {
      void resolved.pendingProbe.then(() => schedule(uri));
    }
  }

  /** Coalesces bursts of changes: one validation at a time per document, always of the latest text. */
  function schedule(uri: string): void {
    if (scheduled.has(uri)) return;
    scheduled.add(uri);
    const previous = running.get(uri) ?? Promise.resolve();
    const next = previous.then(() => new Promise<void>((done) => setImmediate(done))).then(async () => {
      scheduled.delete(uri);
      await guarded('validation', undefined, validate)(uri);
    });
    running.set(uri, next);
    void next.then(() => {
      if (running.get(uri) === next) running.delete(uri);
    });
  }

  /** Large files between saves: the watched timeline from a parse alone, one at a time, always of the latest text. */
  const timelineOnly = new Set<string>();
  function scheduleTimelineOnly(uri: string): void {
    if (timelineOnly.has(uri)) return;
    timelineOnly.add(uri);
    setImmediate(() => {
      timelineOnly.delete(uri);
      const document = documents.get(uri);
      if (!document) return;
      guarded('timeline', undefined, () => timelines.publish(uri, document.version, parsed(document), undefined, states.get(uri)?.context ?? {}, settings.language.timeStyle))();
    });
  }

  async function reloadSettings(raw?: unknown): Promise<void> {
    const config = pullConfiguration ? await connection.workspace.getConfiguration('videoScan') : raw;
    applySettings(readServerSettings(config));
    for (const document of documents.all()) schedule(document.uri);
  }

  function applySettings(next: ServerSettings): void {
    if (next.ffprobePath !== settings.ffprobePath) probes = new ProbeCache({ ffprobePath: next.ffprobePath });
    settings = next;
    jobs?.configure(engineSettings(next));
  }

  function stateOf(uri: string): { document: TextDocument; doc: service.VscanDocument; context: service.DocumentContext } | undefined {
    const document = documents.get(uri);
    if (!document) return undefined;
    const state = states.get(uri);
    return { document, doc: parsed(document), context: state?.context ?? {} };
  }

  const jobs = new JobQueue(engineSettings(settings), (status) => {
    void connection.sendNotification(StatusNotification.type, status);
  });

  /** Runs a caption or find job with LSP progress, cancellation and partial text. */
  async function videoJob(task: 'caption' | 'find', video: string, query: string | undefined, token: CancellationToken, progress: WorkDoneProgressReporter) {
    const path = documentPath(video);
    if (!path) throw new ResponseError(ErrorCodes.InvalidParams, `${video}: only file: URIs can be captioned`);
    if (!trusted) throw new ResponseError(ErrorCodes.InvalidRequest, `${basename(path)}: this workspace is not trusted; trust it to run the model on its videos`);
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    // A server-created progress can be cancelled from the notification itself.
    (progress as Partial<WorkDoneProgressServerReporter>).token?.onCancellationRequested(() => controller.abort());
    progress.begin(task === 'caption' ? 'Captioning video' : 'Finding event', 0, 'queued', true);
    try {
      return await jobs.run({
        task, video: path, query, sampling: { ...samplingFromEnv(), ...settings.sampling }, maxNewTokens: task === 'caption' ? settings.maxNewTokens : undefined,
        ffmpegPath: settings.ffmpegPath, ffprobePath: settings.ffprobePath, window: settings.window, overlap: settings.overlap,
      }, {
        signal: controller.signal,
        onProgress: ({ stage, done, total, decoded }) => {
          const message = stage === 'generating' ? `generating tokens ${done}` : stage === 'decoding' ? `decoding frames ${done}/${total}`
            : stage === 'encoding' ? `encoding vision ${done}/${total}${decoded ? ` (frames ${decoded.done}/${decoded.total} decoded)` : ''}` : 'probing';
          // Token counts have no known end: report the message alone, without a percentage.
          if (stage === 'generating') progress.report(message);
          else progress.report(Math.round((done / Math.max(total, 1)) * 100), message);
        },
        onText: (text) => void connection.sendNotification(PartialTextNotification.type, { video, text }),
      });
    } catch (error) {
      if (controller.signal.aborted || (error as { cancelled?: boolean }).cancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
      // The client offers the download (videoScan/downloadModel) on this code and data.
      if (error instanceof ModelNotDownloadedError) throw new ResponseError(LSPErrorCodes.RequestFailed, error.message, { notDownloaded: settings.model });
      throw new ResponseError(ErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
    } finally {
      progress.done();
    }
  }

  /** The client's progress token when it sent one; otherwise a server-created progress. */
  async function progressFor(params: { workDoneToken?: string | number }): Promise<WorkDoneProgressReporter> {
    return params.workDoneToken !== undefined ? connection.window.attachWorkDoneProgress(params.workDoneToken) : connection.window.createWorkDoneProgress();
  }

  const onCaption = async (params: CaptionParams, token: CancellationToken): Promise<CaptionResponse> => {
    const videoPath = documentPath(params.video);
    const out = params.out ? documentPath(params.out) : undefined;
    const targets = videoPath ? (out ? [out] : candidateNames(videoPath)) : undefined;
    // A read-only folder is found now, not after minutes of inference.
    if (targets) await checkWritableTarget(targets).catch((error: Error) => { throw new ResponseError(ErrorCodes.InvalidParams, error.message); });
    const result = await videoJob('caption', params.video, undefined, token, await progressFor(params));
    if (result.task !== 'caption') throw new ResponseError(ErrorCodes.InternalError, 'the engine answered a caption with another task');
    const text = windowsToVscan(result.windows, basename(videoPath!), { Model: modelLabel(settings.model) });
    const kept = await writeCaptionKeepingResult(targets!, text);
    if (kept.notice) log(kept.notice);
    return {
      ...(kept.path ? { file: pathToFileURL(kept.path).href } : { text }),
      ...(kept.notice ? { notice: kept.notice } : {}),
      scene: result.windows.map((w) => w.scene).join(' '),
      events: result.windows.flatMap((w) => w.events),
      format_ok: result.format_ok,
      raw: result.raw,
    };
  };
  connection.onRequest(CaptionRequest.type, onCaption);

  const onFind = async (params: FindParams, token: CancellationToken): Promise<FindResponse> => {
    const result = await videoJob('find', params.video, params.query, token, await progressFor(params));
    if (result.task !== 'find') throw new ResponseError(ErrorCodes.InternalError, 'the engine answered a find with another task');
    return { span: result.span, format_ok: result.format_ok, raw: result.raw };
  };
  connection.onRequest(FindRequest.type, onFind);

  connection.onRequest(LoadEngineRequest.type, async () => {
    try {
      return await jobs.load();
    } catch (error) {
      throw new ResponseError(ErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
    }
  });

  registerModelRequests(connection, () => settings.model);

  const library = registerLibrary({
    connection, documents, parsed, log,
    trusted: () => trusted,
    ffmpegPath: () => settings.ffmpegPath,
    ffprobePath: () => settings.ffprobePath,
    progress: progressFor,
    findWithin: async (video, query, within, signal) => {
      if (!trusted) throw new ResponseError(ErrorCodes.InvalidRequest, 'this workspace is not trusted');
      const result = await jobs.run({ task: 'find', video, query, within, sampling: { ...samplingFromEnv(), ...settings.sampling }, ffmpegPath: settings.ffmpegPath, ffprobePath: settings.ffprobePath }, { signal });
      return result.task === 'find' ? { span: result.span, format_ok: result.format_ok } : { span: null, format_ok: false };
    },
  });

  connection.onShutdown(async () => {
    await library.flush();
    jobs.dispose();
    killAllTools();
  });

  /**
   * The preview's proxies and filmstrips and the library's thumbnails are made on demand and
   * kept for next time; at start, each folder is brought back within its size, least
   * recently used first (io/pruneFolder.ts), so they never fill the disk.
   */
  function pruneCaches(preview: string | undefined, libraryStorage: string | undefined): void {
    const folders: [string | undefined, number][] = [[preview, PREVIEW_CACHE_BYTES], [libraryStorage && join(libraryStorage, 'thumbnails'), THUMBNAIL_CACHE_BYTES]];
    for (const [folder, maxBytes] of folders) {
      if (!folder) continue;
      void pruneFolder(folder, maxBytes).then(
        (r) => { if (r.removed) log(`${folder}: removed ${r.removed} least recently used files (${Math.round(r.freedBytes / 2 ** 20)} MiB) to stay within ${Math.round(maxBytes / 2 ** 20)} MiB`); },
        (error: unknown) => log(`${folder}: not pruned (${error instanceof Error ? error.message : String(error)})`),
      );
    }
  }

  connection.onInitialize((params) => {
    pullConfiguration = params.capabilities.workspace?.configuration === true;
    const options = params.initializationOptions as InitializationOptions | undefined;
    if (options?.settings !== undefined) applySettings(readServerSettings(options.settings));
    trusted = options?.trusted !== false;
    library.initialize(params);
    previewCache = typeof options?.previewCache === 'string' ? options.previewCache : undefined;
    pruneCaches(previewCache, (params.initializationOptions as LibraryInitializationOptions | undefined)?.libraryStorage);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, service.FIX_ALL_KIND] },
        documentFormattingProvider: true,
        documentSymbolProvider: true,
        foldingRangeProvider: true,
        hoverProvider: true,
        completionProvider: { triggerCharacters: ['<'] },
        documentLinkProvider: { resolveProvider: false },
        workspaceSymbolProvider: true,
      },
      serverInfo: { name: 'video-scan', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    library.start();
    if (pullConfiguration) {
      void connection.client.register(DidChangeConfigurationNotification.type, { section: 'videoScan' });
      settingsLoaded = reloadSettings().catch((error: unknown) => connection.console.error(`configuration failed: ${String(error)}`));
    }
  });

  connection.onDidChangeConfiguration(guarded('configuration', undefined, (params) =>
    reloadSettings((params.settings as { videoScan?: unknown } | undefined)?.videoScan)));

  connection.onNotification(WorkspaceTrustNotification.type, guarded('workspaceTrust', undefined, (params) => {
    const next = params?.trusted === true;
    if (next === trusted) return;
    trusted = next;
    log(`workspace ${trusted ? 'trusted: videos are probed' : 'not trusted: no video is probed'}`);
    for (const document of documents.all()) schedule(document.uri);
  }));

  documents.onDidOpen((event) => schedule(event.document.uri));
  documents.onDidChangeContent((event) => {
    // A large file is validated on open and save only: per keystroke it would cost seconds each time.
    if (event.document.getText().length <= service.LARGE_DOCUMENT_CHARS) schedule(event.document.uri);
    // Its preview still follows the typing, from a parse alone (no validation).
    else if (timelines.watches(event.document.uri)) scheduleTimelineOnly(event.document.uri);
  });
  documents.onDidSave((event) => {
    if (event.document.getText().length > service.LARGE_DOCUMENT_CHARS) schedule(event.document.uri);
  });
  documents.onDidClose((event) => {
    states.delete(event.document.uri);
    requestParses.delete(event.document.uri);
    timelines.forget(event.document.uri);
    void connection.sendDiagnostics({ uri: event.document.uri, diagnostics: [] });
  });

  connection.onNotification(WatchTimelineNotification.type, guarded('watchTimeline', undefined, ({ uri, watch }) => {
    if (typeof uri !== 'string') return;
    if (!watch) return timelines.unwatch(uri);
    timelines.watch(uri);
    const document = documents.get(uri);
    const state = states.get(uri);
    // Validated already: send that model now; otherwise the pending validation will.
    if (document && state && state.version === document.version) {
      timelines.publish(uri, state.version, state.parsed, service.validateVscan(state.parsed, state.context, settings.language, uri), state.context, settings.language.timeStyle);
    } else if (document) schedule(uri);
  }));
  connection.onRequest(TimelineEditRequest.type, guarded('timelineEdit', { edits: [], error: 'internal error' }, (params) => {
    const state = stateOf(params.uri);
    if (!state) return { edits: [], error: `${params.uri} is not open` };
    if (state.document.version !== params.version) return { edits: [], error: 'The document changed meanwhile; try again' };
    return service.timelineEdit(state.doc, state.context, settings.language.timeStyle, params.edit);
  }));

  connection.onRequest(DocumentVideoRequest.type, guarded('documentVideo', null, async ({ uri }) => {
    const state = stateOf(uri);
    const path = documentPath(uri);
    if (!state || !path) return null;
    const resolved = await resolveDocumentContext(state.doc, path, { probes, probeWaitMs: PROBE_WAIT_MS, trusted });
    const v = resolved.context.video;
    return v ? { uri: v.uri, name: basename(v.path), exists: v.exists, explicit: v.explicit, durationSec: v.durationSec } : null;
  }));

  connection.onRequest(FilmstripRequest.type, async ({ uri }, token) => {
    const state = stateOf(uri);
    const path = documentPath(uri);
    if (!state || !path) return null;
    try {
      return await documentFilmstrip(state.doc, path, {
        probes, trusted, cacheDir: previewCache, ffmpegPath: settings.ffmpegPath, view: modelViewOptions(),
      }, token);
    } catch (error) {
      // One line for the client to show (a video ffmpeg cannot read, a cancelled decode).
      throw new ResponseError(ErrorCodes.InternalError, error instanceof Error ? error.message : String(error));
    }
  });

  connection.onCodeAction(guarded('codeAction', [], (params) => {
    const state = stateOf(params.textDocument.uri);
    return state ? service.codeActionsFor(state.doc, params.textDocument.uri, params.context.diagnostics, state.context, settings.language, params.context.only) : [];
  }));
  connection.onDocumentFormatting(guarded('formatting', [], (params) => {
    const state = stateOf(params.textDocument.uri);
    return state ? service.formatVscan(state.doc, settings.language) : [];
  }));
  connection.onDocumentSymbol(guarded('documentSymbol', [], (params) => {
    const state = stateOf(params.textDocument.uri);
    return state ? service.documentSymbols(state.doc) : [];
  }));
  connection.onFoldingRanges(guarded('foldingRange', [], (params) => {
    const state = stateOf(params.textDocument.uri);
    return state ? service.foldingRanges(state.doc) : [];
  }));
  connection.onHover(guarded('hover', null, (params) => {
    const state = stateOf(params.textDocument.uri);
    return (state && service.hoverAt(state.doc, params.position, state.context)) ?? null;
  }));
  connection.onCompletion(guarded('completion', [], (params) => {
    const state = stateOf(params.textDocument.uri);
    return state ? service.completionsAt(state.doc, params.position, state.context, settings.language) : [];
  }));
  connection.onDocumentLinks(guarded('documentLinks', [], (params) => {
    const state = stateOf(params.textDocument.uri);
    return state ? service.documentLinks(state.doc, params.textDocument.uri, state.context) : [];
  }));

  documents.listen(connection);
  connection.listen();
  log('video-scan language server started');
}
