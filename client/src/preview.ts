/**
 * The synced preview: a webview per .vscan document that plays its linked video.
 * Editor → preview: the cursor on an event line seeks to its start (throttled, versioned).
 * Preview → editor: the event playing is highlighted (and revealed while playing). The
 * loop is guarded by direction: playback only decorates and reveals, it never moves the
 * cursor, so it cannot trigger a seek.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { parseVscan } from '../../server/src/language';
import { needsProxy, previewProxy } from '../../server/src/video/previewProxy';
import { probeVideo } from '../../server/src/video/probe';
import type { FromWebview, PreviewState, TimelineEvent, ToWebview } from '../../webview/src/messages';
import { eventAt, type TimeTable, timeTable } from '../../webview/src/timeline';
import { linkedVideo } from './linkedVideo';
import { previewRoots } from './previewRoots';

export const PREVIEW_VIEW_TYPE = 'videoScan.preview';
const THROTTLE_MS = 50;

class Preview {
  table: TimeTable = { starts: [], events: [] };
  currentTime = 0;
  private lastSeek = 0;
  private pendingSeek: NodeJS.Timeout | undefined;
  /** Whether the webview has said it is ready: a message posted before that may be lost. */
  private ready = false;
  /** A seek asked for before the webview was ready (a preview opened to show a time), sent when it is. */
  private seekWhenReady: number | undefined;

  constructor(readonly document: vscode.TextDocument, readonly panel: vscode.WebviewPanel, private readonly manager: PreviewManager) {}

  seekTo(seconds: number): void {
    if (this.ready) this.post({ type: 'seek', seconds, version: this.document.version });
    else this.seekWhenReady = seconds;
  }

  post(message: ToWebview): void {
    void this.panel.webview.postMessage(message);
  }

  sendEvents(): void {
    const doc = parseVscan(this.document.getText());
    const problems = new Set(vscode.languages.getDiagnostics(this.document.uri)
      .filter((d) => d.severity === vscode.DiagnosticSeverity.Error).map((d) => d.range.start.line));
    const events: TimelineEvent[] = doc.events
      .filter((e) => e.startValue !== undefined && e.endValue !== undefined)
      .map((e) => ({ start: e.startValue!, end: e.endValue!, line: e.line, label: e.description, problem: problems.has(e.line) }));
    this.table = timeTable(events);
    this.post({ type: 'events', version: this.document.version, events });
  }

  /** Seeks to the event on `line`, at most every THROTTLE_MS (the last request wins). */
  seekToLine(line: number, loop: boolean): void {
    const event = this.table.events.find((e) => e.line === line);
    this.post({ type: 'activeLine', line: event?.line });
    if (!event) return;
    clearTimeout(this.pendingSeek);
    const send = () => {
      this.lastSeek = Date.now();
      this.post({ type: 'seek', seconds: event.start, loopEnd: loop ? event.end : undefined, version: this.document.version });
    };
    const wait = THROTTLE_MS - (Date.now() - this.lastSeek);
    if (wait <= 0) send();
    else this.pendingSeek = setTimeout(send, wait);
  }

  onMessage(message: FromWebview): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.sendEvents();
        if (this.seekWhenReady !== undefined) this.seekTo(this.seekWhenReady);
        this.seekWhenReady = undefined;
        break;
      case 'time':
        this.currentTime = message.seconds;
        this.manager.highlight(this, eventAt(this.table, message.seconds)?.line, message.playing);
        break;
      case 'revealLine': {
        const editor = vscode.window.visibleTextEditors.find((e) => e.document === this.document);
        if (editor) {
          const position = new vscode.Position(message.line, 0);
          editor.selection = new vscode.Selection(position, position);
          editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        }
        break;
      }
      case 'playbackError':
        this.manager.playbackFailed(this, message.message);
        break;
    }
  }
}

export class PreviewManager implements vscode.Disposable {
  private readonly previews = new Map<string, Preview>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly playingLine = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
  });

  constructor(private readonly context: vscode.ExtensionContext) {
    this.disposables.push(
      this.playingLine,
      vscode.window.onDidChangeTextEditorSelection((event) => {
        const preview = this.previews.get(event.textEditor.document.uri.toString());
        if (preview && vscode.workspace.getConfiguration('videoScan.preview').get('syncCursor', true)) {
          preview.seekToLine(event.selections[0].active.line, vscode.workspace.getConfiguration('videoScan.preview').get('loopSpan', false));
        }
      }),
      vscode.workspace.onDidChangeTextDocument((event) => this.previews.get(event.document.uri.toString())?.sendEvents()),
      vscode.languages.onDidChangeDiagnostics((event) => {
        for (const uri of event.uris) this.previews.get(uri.toString())?.sendEvents();
      }),
      vscode.window.registerWebviewPanelSerializer(PREVIEW_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: PreviewState | undefined) => {
          if (!state?.documentUri) return panel.dispose();
          const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(state.documentUri));
          this.attach(document, panel);
        },
      }),
    );
  }

  /** Opens (or reveals) the preview of a .vscan document. */
  async open(document: vscode.TextDocument, toSide: boolean): Promise<void> {
    const existing = this.previews.get(document.uri.toString());
    if (existing) return existing.panel.reveal(undefined, true);
    const panel = vscode.window.createWebviewPanel(PREVIEW_VIEW_TYPE, `Preview ${document.uri.path.split('/').pop()}`,
      { viewColumn: toSide ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active, preserveFocus: true }, {});
    this.attach(document, panel);
  }

  private get proxyFolder(): vscode.Uri {
    return vscode.Uri.joinPath(this.context.globalStorageUri, 'preview-proxies');
  }

  /**
   * Shows `video` (or its proxy) in the panel. Loadable: our scripts, and the video's folder
   * when the user chose to look there (previewRoots: never a folder that only a `Video:`
   * header names outside the workspace).
   */
  private show(panel: vscode.WebviewPanel, document: vscode.TextDocument, video: vscode.Uri | undefined): void {
    const allowed = previewRoots({
      scripts: vscode.Uri.joinPath(this.context.extensionUri, 'dist').fsPath,
      proxyFolder: this.proxyFolder.fsPath,
      workspaceFolders: (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath),
      documentPath: document.uri.fsPath,
      videoPath: video?.fsPath,
    });
    panel.webview.options = { enableScripts: true, localResourceRoots: allowed.roots.map((root) => vscode.Uri.file(root)) };
    panel.webview.html = this.html(panel.webview, document, allowed.video ? vscode.Uri.file(allowed.video) : undefined, allowed.refused);
  }

  /**
   * Webviews cannot play HEVC, ProRes, AAC audio and the like: such a video is shown through
   * a proxy made once with ffmpeg (H.264 + Opus) in the extension's storage.
   */
  private async showPlayable(panel: vscode.WebviewPanel, document: vscode.TextDocument, video: vscode.Uri, force = false): Promise<void> {
    // Probing and transcoding run ffprobe/ffmpeg on a file the repository names: only in a
    // trusted workspace. Untrusted, the webview plays what it can, and asks for trust when
    // it cannot (playbackFailed).
    if (!vscode.workspace.isTrusted) return;
    try {
      const probe = await probeVideo(video.fsPath, { ffprobePath: vscode.workspace.getConfiguration('videoScan.ffprobe').get<string>('path') || undefined });
      const reason = needsProxy(probe) ?? (force ? 'a playback error' : undefined);
      if (!reason) return;
      const proxy = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Making a preview copy of ${video.path.split('/').pop()} (${reason})`, cancellable: true },
        (_progress, token) => {
          const controller = new AbortController();
          token.onCancellationRequested(() => controller.abort());
          return previewProxy(video.fsPath, probe.durationSec, this.proxyFolder.fsPath, {
            signal: controller.signal,
            ffmpegPath: vscode.workspace.getConfiguration('videoScan.ffmpeg').get<string>('path') || undefined,
          });
        });
      if (this.previews.has(document.uri.toString())) this.show(panel, document, vscode.Uri.file(proxy));
    } catch (error) {
      void vscode.window.showWarningMessage(`The preview cannot play this video: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private attach(document: vscode.TextDocument, panel: vscode.WebviewPanel): void {
    const video = linkedVideo(document);
    this.show(panel, document, video);
    if (video && this.loadable(panel)) void this.showPlayable(panel, document, video);
    const preview = new Preview(document, panel, this);
    const key = document.uri.toString();
    this.previews.set(key, preview);
    panel.webview.onDidReceiveMessage((message: FromWebview) => preview.onMessage(message));
    panel.onDidDispose(() => {
      this.previews.delete(key);
      for (const editor of vscode.window.visibleTextEditors) if (editor.document === document) editor.setDecorations(this.playingLine, []);
    });
  }

  highlight(preview: Preview, line: number | undefined, playing: boolean): void {
    const follow = vscode.workspace.getConfiguration('videoScan.preview').get('followPlayback', true);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== preview.document) continue;
      const range = line === undefined ? undefined : new vscode.Range(line, 0, line, 0);
      editor.setDecorations(this.playingLine, range ? [range] : []);
      if (range && playing && follow) editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
  }

  /** Whether the panel was given a video to load (not refused by previewRoots). */
  private loadable(panel: vscode.WebviewPanel): boolean {
    return panel.webview.html.includes('<video id="video" controls');
  }

  /** The webview could not play what it was given: make a proxy unless it is one already. */
  playbackFailed(preview: Preview, message: string): void {
    const video = linkedVideo(preview.document);
    const showingProxy = preview.panel.webview.html.includes('preview-proxies');
    if (video && !showingProxy && !vscode.workspace.isTrusted) void this.askForTrust(video);
    else if (video && !showingProxy) void this.showPlayable(preview.panel, preview.document, video, true);
    else void vscode.window.showWarningMessage(`The preview cannot play this video (${message}); the annotation is unaffected.`);
  }

  /** Asks for trust before any ffprobe/ffmpeg runs on a video the workspace names. */
  private async askForTrust(video: vscode.Uri): Promise<void> {
    const manage = 'Manage Workspace Trust';
    const choice = await vscode.window.showInformationMessage(
      `The preview cannot play ${video.path.split('/').pop()} as it is. Making a playable copy runs ffmpeg on it, which needs a trusted workspace.`, manage);
    if (choice === manage) void vscode.commands.executeCommand('workbench.trust.manage');
  }

  /** Trust was granted: open previews may now probe (and proxy) their videos. */
  trustGranted(): void {
    for (const preview of this.previews.values()) {
      const video = linkedVideo(preview.document);
      if (video && this.loadable(preview.panel)) void this.showPlayable(preview.panel, preview.document, video);
    }
  }

  /** The preview's playhead for a document (for Set Event Start/End). */
  currentTime(uri: vscode.Uri): number | undefined {
    return this.previews.get(uri.toString())?.currentTime;
  }

  /** Seeks a document's preview (document links and code lenses call videoScan.seek). */
  seek(uri: vscode.Uri, seconds: number): boolean {
    const preview = this.previews.get(uri.toString());
    preview?.seekTo(seconds);
    return preview !== undefined;
  }

  showFound(uri: vscode.Uri, start: number, end: number, query: string): void {
    this.previews.get(uri.toString())?.post({ type: 'found', start, end, query });
  }

  private html(webview: vscode.Webview, document: vscode.TextDocument, video: vscode.Uri | undefined, refused?: string): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview.js'));
    const source = video ? webview.asWebviewUri(video) : undefined;
    const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; media-src ${webview.cspSource}; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}' ${webview.cspSource};">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">
  body { padding: 8px; color: var(--vscode-foreground); font-family: var(--vscode-font-family); }
  video { width: 100%; max-height: 70vh; background: #000; }
  #timeline { position: relative; margin-top: 8px; background: var(--vscode-editorWidget-background); border: 1px solid var(--vscode-widget-border, transparent); }
  .bar { position: absolute; height: 10px; border-radius: 2px; background: var(--vscode-charts-blue); cursor: pointer; opacity: 0.85; }
  .bar.problem { background: var(--vscode-charts-red); }
  .bar.active { outline: 2px solid var(--vscode-focusBorder); }
  .found { position: absolute; top: 0; bottom: 0; background: var(--vscode-charts-yellow); opacity: 0.35; pointer-events: none; }
  .playhead { position: absolute; top: 0; bottom: 0; width: 2px; background: var(--vscode-editorCursor-foreground); pointer-events: none; }
  .missing { opacity: 0.8; }
</style></head>
<body data-document="${escape(document.uri.toString())}">
${source ? `<video id="video" controls preload="metadata" src="${escape(source.toString())}"></video>`
    : refused ? `<p class="missing">The preview does not load this video: ${escape(refused)}</p><video id="video" hidden></video>`
    : `<p class="missing">No video linked: add a <code>Video:</code> header or put a video with the same name beside the file.</p><video id="video" hidden></video>`}
<div id="timeline" role="list" aria-label="Events"></div>
<vscode-checkbox id="loop">Loop the event under the cursor</vscode-checkbox>
<script type="module" nonce="${nonce}" src="${script}"></script>
</body></html>`;
  }

  dispose(): void {
    for (const preview of this.previews.values()) preview.panel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
