/**
 * The synced preview, like VS Code's Markdown preview: one panel that shows the active
 * .vscan (unless locked), its linked video and timeline. The timeline model comes from the
 * language server (whole once, then differences; see timelineModel.ts): the extension
 * parses and probes nothing.
 *
 * Editor → preview: the cursor on an event line seeks to its start (throttled, versioned).
 * Preview → editor: the event playing is decorated (and revealed while playing). The loop
 * is guarded by direction: playback only decorates and reveals, it never moves the cursor,
 * so it cannot trigger a seek.
 *
 * In an untrusted workspace (Restricted Mode) the panel loads no media and runs no ffmpeg:
 * it says why, offers Manage Workspace Trust, and still draws the timeline from the text.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { type FilmstripResult, FilmstripRequest, TimelineNotification, type TimelineParams, WatchTimelineNotification } from '../../server/src/lsp/protocol';
import { previewProxy } from '../../server/src/video/previewProxy';
import type { FromWebview, PreviewState, ToWebview, TransportAction } from '../../webview/src/messages';
import { eventAt } from '../../webview/src/timeline';
import { previewHtml, type VideoView } from './previewHtml';
import { previewRoots } from './previewRoots';
import { TimelineModel } from './timelineModel';

export const PREVIEW_VIEW_TYPE = 'videoScan.preview';
const THROTTLE_MS = 50;
/** Context keys for keybindings and menus. */
const OPEN_KEY = 'videoScan.previewOpen';
const LOCKED_KEY = 'videoScan.previewLocked';

export class PreviewManager implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private uri: vscode.Uri | undefined;
  private locked = false;
  private model = new TimelineModel();
  private ready = false;
  /** The render the panel shows now: a `ready` from an older page (replaced while it loaded) is ignored. */
  private page = 0;
  /** What the panel's HTML shows, so a model update re-renders only when the video changes. */
  private shown: string | undefined;
  private proxies = new Map<string, string>();
  /** Videos the webview failed to play although the probe thought it could: proxied from then on. */
  private readonly unplayable = new Set<string>();
  /** Seek to the cursor's event once the first model of a newly shown document arrives. */
  private seekOnLoad = false;
  private lastSeek = 0;
  private pendingSeek: NodeJS.Timeout | undefined;
  private playingLineNumber: number | undefined;
  /** A seek asked for before the webview had its model (a clicked time that opened the preview). */
  private queuedSeek: number | undefined;
  /** The filmstrip asked for (keyed on the video and its frame plan) and, once decoded, what it is. */
  private filmstripKey: string | undefined;
  private filmstrip: FilmstripResult | undefined;
  /** Transport messages sent (their `seq`). */
  private transportSeq = 0;
  /** The playhead as last reported by the webview. */
  currentTime = 0;
  playing = false;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly playingLine: vscode.TextEditorDecorationType;

  constructor(private readonly context: vscode.ExtensionContext, private readonly client: LanguageClient) {
    // Distinct from the current-line highlight: a strong background, a bar in the overview
    // ruler, and a play icon in the gutter.
    this.playingLine = vscode.window.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: new vscode.ThemeColor('editor.wordHighlightStrongBackground'),
      borderColor: new vscode.ThemeColor('focusBorder'),
      borderStyle: 'solid',
      borderWidth: '0 0 0 2px',
      overviewRulerColor: new vscode.ThemeColor('focusBorder'),
      overviewRulerLane: vscode.OverviewRulerLane.Center,
      gutterIconPath: vscode.Uri.joinPath(context.extensionUri, 'client', 'media', 'playing.svg'),
      gutterIconSize: '70%',
    });
    this.disposables.push(
      this.playingLine,
      client.onNotification(TimelineNotification.type, (params) => this.onTimeline(params)),
      vscode.window.onDidChangeTextEditorSelection((event) => {
        if (!this.shows(event.textEditor.document.uri)) return;
        if (vscode.workspace.getConfiguration('videoScan.preview').get('syncCursor', true)) this.seekToLine(event.selections[0].active.line);
      }),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor?.document.languageId === 'vscan' && this.panel && !this.locked && !this.shows(editor.document.uri)) this.showDocument(editor.document.uri);
      }),
      vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: PreviewState | undefined) => {
          if (!state?.documentUri || this.panel) return panel.dispose();
          this.locked = state.locked === true;
          this.adopt(panel);
          this.showDocument(vscode.Uri.parse(state.documentUri));
        },
      }),
    );
  }

  /** Whether the preview shows this document. */
  shows(uri: vscode.Uri): boolean {
    return this.uri?.toString() === uri.toString();
  }

  /** Opens (or reveals) the preview and shows `document` in it (an explicit open retargets a locked preview too). */
  async open(document: vscode.TextDocument, toSide: boolean): Promise<void> {
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(PREVIEW_VIEW_TYPE, 'Preview', { viewColumn: toSide ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active, preserveFocus: true }, {});
      this.adopt(panel);
    } else this.panel.reveal(undefined, true);
    if (!this.shows(document.uri)) this.showDocument(document.uri);
  }

  toggleLock(): void {
    this.locked = !this.locked;
    void vscode.commands.executeCommand('setContext', LOCKED_KEY, this.locked);
    this.updateTitle();
    this.post({ type: 'locked', locked: this.locked });
    // Unlocking follows the active editor again at once.
    const active = vscode.window.activeTextEditor?.document;
    if (!this.locked && active?.languageId === 'vscan' && !this.shows(active.uri)) this.showDocument(active.uri);
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    void vscode.commands.executeCommand('setContext', OPEN_KEY, true);
    void vscode.commands.executeCommand('setContext', LOCKED_KEY, this.locked);
    panel.webview.onDidReceiveMessage((message: FromWebview) => this.onMessage(message));
    panel.onDidDispose(() => {
      if (this.uri) void this.client.sendNotification(WatchTimelineNotification.type, { uri: this.uri.toString(), watch: false });
      this.panel = undefined;
      this.uri = undefined;
      this.shown = undefined;
      this.highlight(undefined, false);
      void vscode.commands.executeCommand('setContext', OPEN_KEY, false);
    });
  }

  private showDocument(uri: vscode.Uri): void {
    this.queuedSeek = undefined;
    if (this.uri) void this.client.sendNotification(WatchTimelineNotification.type, { uri: this.uri.toString(), watch: false });
    this.highlight(undefined, false);
    this.uri = uri;
    this.filmstripKey = undefined;
    this.filmstrip = undefined;
    this.model = new TimelineModel();
    this.seekOnLoad = true;
    this.shown = undefined;
    this.render();
    this.updateTitle();
    void this.client.sendNotification(WatchTimelineNotification.type, { uri: uri.toString(), watch: true });
  }

  private updateTitle(): void {
    if (!this.panel || !this.uri) return;
    const name = this.uri.path.split('/').pop();
    this.panel.title = this.locked ? `[Preview] ${name}` : `Preview ${name}`;
  }

  private onTimeline(params: TimelineParams): void {
    if (!this.uri || params.uri !== this.uri.toString()) return;
    if (!this.model.apply(params)) {
      // A diff against a version we do not have (a message lost in a retarget): start over.
      this.model = new TimelineModel();
      void this.client.sendNotification(WatchTimelineNotification.type, { uri: params.uri, watch: true });
      return;
    }
    this.render();
    this.requestFilmstrip();
    if (this.ready) this.post({ ...params, type: 'timeline', durationSec: params.video?.durationSec, fps: params.video?.fps, modelFrames: params.video?.modelFrames, windows: params.video?.windows });
    if (this.ready) this.flushQueuedSeek();
    if (this.seekOnLoad && this.queuedSeek === undefined) {
      this.seekOnLoad = false;
      const editor = vscode.window.visibleTextEditors.find((e) => this.shows(e.document.uri));
      if (editor) this.seekToLine(editor.selection.active.line);
    }
  }

  /** The whole model, for a webview that (re)loaded. */
  private postWholeModel(): void {
    const m = this.model;
    if (!m.loaded) return;
    this.post({ type: 'timeline', version: m.version, baseVersion: null, diff: { start: 0, deleteCount: 0, events: m.events, lineDelta: 0 }, scenes: m.scenes, format: m.format, durationSec: m.video?.durationSec, fps: m.video?.fps, modelFrames: m.video?.modelFrames, windows: m.video?.windows });
  }

  private get proxyFolder(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'preview-proxies');
  }

  /** What the panel should show now: loading, the video (or its proxy), or why there is none. */
  private videoView(): VideoView {
    const video = this.model.video;
    if (!this.model.loaded) return { kind: 'loading' };
    if (!video) return { kind: 'none' };
    // Before existence: whether a file a cloned repository names exists is not shown either.
    if (!vscode.workspace.isTrusted) return { kind: 'untrusted', name: video.name };
    if (!video.exists) return { kind: 'missing', name: video.name, explicit: video.explicit };
    const source = vscode.Uri.parse(video.uri);
    // A `Video:` header alone never lets the webview read outside the workspace (previewRoots).
    const refused = this.allowed(source.fsPath).refused;
    if (refused) return { kind: 'refused', reason: refused };
    const reason = video.proxyReason ?? (this.unplayable.has(source.fsPath) ? 'a playback error' : undefined);
    if (reason) {
      const proxy = this.proxies.get(source.fsPath);
      if (proxy) return { kind: 'video', file: vscode.Uri.file(proxy) };
      void this.makeProxy(source, video.durationSec ?? 0, reason);
      return { kind: 'proxying', reason };
    }
    return { kind: 'video', file: source };
  }

  /** The webview's loadable roots for a document showing `videoPath` (previewRoots.ts). */
  private allowed(videoPath: string | undefined) {
    return previewRoots({
      scripts: vscode.Uri.joinPath(this.context.extensionUri, 'dist').fsPath,
      proxyFolder: this.proxyFolder.fsPath,
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
      documentPath: this.uri?.fsPath ?? '',
      videoPath,
    });
  }

  private render(): void {
    const panel = this.panel;
    if (!panel || !this.uri) return;
    const view = this.videoView();
    // A Uri's JSON changes as it caches its fsPath: key on its string form instead.
    const key = JSON.stringify(view.kind === 'video' ? { kind: view.kind, file: view.file.toString() } : view);
    if (key === this.shown) return;
    this.shown = key;
    this.ready = false;
    panel.webview.options = {
      enableScripts: true,
      enableCommandUris: ['videoScan.linkVideo', 'workbench.trust.manage'],
      // The proxy folder also holds the filmstrips (our own storage, written by our server).
      localResourceRoots: [...this.allowed(view.kind === 'video' ? view.file.fsPath : undefined).roots.map((root) => vscode.Uri.file(root)), this.proxyFolder],
    };
    const loopDefault = vscode.workspace.getConfiguration('videoScan.preview').get('loopSpan', false);
    panel.webview.html = previewHtml({
      webview: panel.webview,
      nonce: randomBytes(16).toString('base64'),
      script: panel.webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview.js')),
      documentUri: this.uri,
      view,
      loop: loopDefault,
      locked: this.locked,
      page: ++this.page,
    });
  }

  /**
   * Webviews cannot play HEVC, ProRes, AAC audio and the like: such a video is shown through
   * a proxy made once with ffmpeg (H.264 + Opus) in the extension's storage.
   */
  private async makeProxy(video: vscode.Uri, durationSec: number, reason: string): Promise<void> {
    if (this.proxies.has(video.fsPath) || !vscode.workspace.isTrusted) return;
    this.proxies.set(video.fsPath, '');
    try {
      const proxy = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Making a preview copy of ${video.path.split('/').pop()} (${reason})`, cancellable: true },
        (_progress, token) => {
          const controller = new AbortController();
          token.onCancellationRequested(() => controller.abort());
          return previewProxy(video.fsPath, durationSec, this.proxyFolder.fsPath, {
            signal: controller.signal,
            ffmpegPath: vscode.workspace.getConfiguration('videoScan.ffmpeg').get<string>('path') || undefined,
          });
        });
      this.proxies.set(video.fsPath, proxy);
      this.render();
    } catch (error) {
      this.proxies.delete(video.fsPath);
      void vscode.window.showWarningMessage(`The preview cannot play ${video.path.split('/').pop()}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private post(message: ToWebview): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
  }

  /** Seeks to the event on `line`, at most every THROTTLE_MS (the last request wins). */
  private seekToLine(line: number): void {
    const event = this.model.eventOnLine(line);
    this.post({ type: 'activeLine', line: event?.line });
    if (!event) return;
    clearTimeout(this.pendingSeek);
    const send = () => {
      this.lastSeek = Date.now();
      // A webview that is (re)loading gets the seek once it is ready.
      if (!this.ready) this.queuedSeek = event.start;
      else this.post({ type: 'seek', seconds: event.start, loopEnd: event.end, version: this.model.version });
    };
    const wait = THROTTLE_MS - (Date.now() - this.lastSeek);
    if (wait <= 0) send();
    else this.pendingSeek = setTimeout(send, wait);
  }

  private onMessage(message: FromWebview): void {
    switch (message.type) {
      case 'ready':
        // Posts to a page that is being replaced would be lost: wait for the current one.
        if (message.page !== this.page) break;
        this.ready = true;
        this.transportSeq = 0; // a new page has applied none of the keys sent to the last
        this.postWholeModel();
        this.postFilmstrip();
        this.flushQueuedSeek();
        break;
      case 'resync':
        this.postWholeModel();
        break;
      case 'time': {
        // A report from before the last key we sent would undo its prediction (transport()).
        if (message.transport < this.transportSeq && !message.playing) break;
        this.currentTime = message.seconds;
        this.playing = message.playing;
        this.highlight(eventAt(this.model.byTime, message.seconds)?.line, message.playing);
        break;
      }
      case 'revealLine': {
        const editor = vscode.window.visibleTextEditors.find((e) => this.shows(e.document.uri));
        if (editor) {
          const position = new vscode.Position(message.line, 0);
          editor.selection = new vscode.Selection(position, position);
          editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        }
        break;
      }
      case 'retime':
        if (this.uri) void vscode.commands.executeCommand('videoScan.applyTimelineEdit', this.uri, { kind: 'retime', line: message.line, from: message.from, start: message.start, end: message.end });
        break;
      case 'playbackError': {
        const video = this.model.video;
        const path = video?.exists ? vscode.Uri.parse(video.uri).fsPath : undefined;
        if (path && !video?.proxyReason && !this.unplayable.has(path)) {
          // The probe thought it playable; the webview disagrees: make a proxy after all.
          this.unplayable.add(path);
          this.render();
        } else void vscode.window.showWarningMessage(`The preview cannot play this video (${message.message}); the annotation is unaffected.`);
        break;
      }
    }
  }

  private highlight(line: number | undefined, playing: boolean): void {
    if (line === this.playingLineNumber && !playing) return;
    this.playingLineNumber = line;
    const follow = vscode.workspace.getConfiguration('videoScan.preview').get('followPlayback', true);
    for (const editor of vscode.window.visibleTextEditors) {
      if (!this.shows(editor.document.uri) || line === undefined) {
        editor.setDecorations(this.playingLine, []);
        continue;
      }
      const range = new vscode.Range(line, 0, line, 0);
      editor.setDecorations(this.playingLine, [range]);
      if (playing && follow) editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
  }

  /** The document version and playhead, when the preview shows `uri` (for the playhead edits). */
  playhead(uri: vscode.Uri): { seconds: number; version: number } | undefined {
    return this.panel && this.shows(uri) && this.model.loaded ? { seconds: this.currentTime, version: this.model.version } : undefined;
  }

  /** The event under the cursor's line, from the model. */
  eventOnLine(line: number) {
    return this.model.eventOnLine(line);
  }

  /** Seeks the preview of a document (document links call videoScan.seek); false when it does not show it. */
  seek(uri: vscode.Uri, seconds: number, play?: 'once' | 'loop', end?: number): boolean {
    if (!this.panel || !this.shows(uri)) return false;
    if (!this.ready || !this.model.loaded) {
      this.queuedSeek = seconds;
      return true;
    }
    this.post({ type: 'seek', seconds, loopEnd: end, play, version: this.model.version });
    return true;
  }

  private flushQueuedSeek(): void {
    if (this.queuedSeek === undefined || !this.model.loaded) return;
    this.seekOnLoad = false;
    this.post({ type: 'seek', seconds: this.queuedSeek, version: this.model.version });
    this.queuedSeek = undefined;
  }

  /** Keyboard transport from the editor. */
  transport(action: TransportAction): void {
    const message = { type: 'transport', seq: ++this.transportSeq, ...action } as Extract<ToWebview, { type: 'transport' }>;
    this.post(message);
    // Keep our copy of the playhead in step with the keys we sent: a playhead edit pressed
    // right after a jump must not use the time from before it. The webview's reports of
    // earlier keys, still on their way, are then ignored (see 'time').
    if (message.action === 'jump' || message.action === 'step') {
      const delta = message.action === 'jump' ? message.seconds : message.frames / (this.model.video?.fps || 25);
      const end = this.model.video?.durationSec ?? Number.POSITIVE_INFINITY;
      this.currentTime = Math.max(0, Math.min(end, this.currentTime + delta));
    }
  }

  /**
   * Asks the server for the filmstrip of the shown video's frame plan, once per video and
   * plan (trusted workspaces only: the server runs ffmpeg for it). A plan that changes
   * (another video, other sampling settings) asks again.
   */
  private requestFilmstrip(): void {
    const video = this.model.video;
    const uri = this.uri;
    if (!uri || !vscode.workspace.isTrusted || !video?.exists || !video.modelFrames?.length) {
      this.filmstripKey = undefined;
      this.filmstrip = undefined;
      return;
    }
    const frames = video.modelFrames;
    const key = `${video.uri}\0${frames.length}\0${frames[0]}\0${frames[frames.length - 1]}`;
    if (key === this.filmstripKey) return;
    this.filmstripKey = key;
    this.filmstrip = undefined;
    this.client.sendRequest(FilmstripRequest.type, { uri: uri.toString() }).then((strip) => {
      if (this.filmstripKey !== key || !this.shows(uri)) return; // the preview moved on meanwhile
      this.filmstrip = strip ?? undefined;
      this.postFilmstrip();
    }, (error: unknown) => {
      // The timeline keeps its ticks; the reason goes to the log, not a toast per video.
      this.client.warn(`filmstrip of ${video.name}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  private postFilmstrip(): void {
    const strip = this.filmstrip;
    if (!strip || !this.panel) return;
    const src = this.panel.webview.asWebviewUri(vscode.Uri.parse(strip.image)).toString();
    this.post({ type: 'filmstrip', src, times: strip.times, tileWidth: strip.tileWidth, tileHeight: strip.tileHeight, columns: strip.columns });
  }

  /** Trust was granted: show the video now (the server re-probes and sends its facts). */
  trustGranted(): void {
    this.render();
  }

  showFound(uri: vscode.Uri, start: number, end: number, query: string): void {
    if (this.shows(uri)) this.post({ type: 'found', start, end, query });
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
