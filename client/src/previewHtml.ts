/** The preview panel's HTML: the video (or why there is none), the timeline, its toolbar. */
import type * as vscode from 'vscode';

/** What the panel shows where the video goes. */
export type VideoView =
  | { kind: 'loading' }
  | { kind: 'none' }
  | { kind: 'missing'; name: string; explicit: boolean }
  | { kind: 'proxying'; reason: string }
  /** Restricted Mode: no media is loaded from an untrusted workspace. */
  | { kind: 'untrusted'; name: string }
  /** A video outside what the webview may read (previewRoots.ts says why). */
  | { kind: 'refused'; reason: string }
  | { kind: 'video'; file: vscode.Uri };

export interface PreviewHtmlOptions {
  webview: vscode.Webview;
  nonce: string;
  script: vscode.Uri;
  documentUri: vscode.Uri;
  view: VideoView;
  /** The loop box's initial state (videoScan.preview.loopSpan). */
  loop: boolean;
  locked: boolean;
  /** Which render of the panel this page is (echoed in its `ready`). */
  page: number;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function stage(o: PreviewHtmlOptions): string {
  const link = `<a href="${escape(`command:videoScan.linkVideo?${encodeURIComponent(JSON.stringify([o.documentUri.toString()]))}`)}">Link video…</a>`;
  switch (o.view.kind) {
    case 'video':
      return `<video id="video" controls preload="metadata" src="${escape(o.webview.asWebviewUri(o.view.file).toString())}"></video>`;
    case 'loading':
      return '<p class="message">Loading…</p><video id="video" hidden></video>';
    case 'proxying':
      return `<p class="message">Making a playable copy of the video (${escape(o.view.reason)})…</p><video id="video" hidden></video>`;
    case 'missing':
      return `<p class="message" id="video-message"><span class="codicon-warning">⚠</span> Video not found: <code>${escape(o.view.name)}</code>${o.view.explicit ? ', named by the <code>Video:</code> header,' : ''} does not exist. ${link}</p><video id="video" hidden></video>`;
    case 'untrusted':
      return `<p class="message" id="video-message"><span class="codicon-warning">⚠</span> Restricted Mode: the preview does not load <code>${escape(o.view.name)}</code> from an untrusted workspace. The timeline below is read from the text. <a href="command:workbench.trust.manage">Manage Workspace Trust</a></p><video id="video" hidden></video>`;
    case 'refused':
      return `<p class="message" id="video-message">The preview does not load this video: ${escape(o.view.reason)}</p><video id="video" hidden></video>`;
    case 'none':
      return `<p class="message" id="video-message">No video linked: add a <code>Video:</code> header or put a video with the same name beside the file. ${link}</p><video id="video" hidden></video>`;
  }
}

export function previewHtml(o: PreviewHtmlOptions): string {
  const { webview, nonce } = o;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; media-src ${webview.cspSource}; img-src ${webview.cspSource}; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}' ${webview.cspSource};">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">
  body { padding: 8px; color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
  video { display: block; width: 100%; max-height: 60vh; background: #000; }
  video[hidden] { display: none; }
  video::cue { font-size: 1.1em; }
  .message { padding: 12px; border: 1px solid var(--vscode-widget-border, var(--vscode-contrastBorder, transparent)); background: var(--vscode-editorWidget-background); }
  .message a { color: var(--vscode-textLink-foreground); }
  #toolbar { display: flex; gap: 4px; align-items: center; margin-top: 6px; flex-wrap: wrap; }
  #toolbar button { color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; padding: 1px 8px; font: inherit; cursor: pointer; min-width: 26px; }
  #toolbar button:hover { background: var(--vscode-button-secondaryHoverBackground); }
  #toolbar button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 1px; }
  #clock { margin-left: auto; font-family: var(--vscode-editor-font-family); font-variant-numeric: tabular-nums; opacity: 0.9; }
  #timeline { position: relative; margin-top: 4px; border: 1px solid var(--vscode-widget-border, var(--vscode-contrastBorder, transparent)); background: var(--vscode-editor-background); }
  #timeline:focus-within { outline: 1px solid var(--vscode-focusBorder); }
  #timeline canvas { display: block; width: 100%; }
  #timeline canvas:focus { outline: none; }
  #overlay { position: absolute; left: 0; top: 0; pointer-events: none; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
</style></head>
<body data-document="${escape(o.documentUri.toString())}" data-locked="${o.locked}" data-page="${o.page}">
${stage(o)}
<div id="toolbar" role="toolbar" aria-label="Timeline">
  <button id="zoom-out" title="Zoom out (-)" aria-label="Zoom out">−</button>
  <button id="zoom-in" title="Zoom in (+ or Ctrl+wheel)" aria-label="Zoom in">+</button>
  <button id="zoom-fit" title="Fit the whole video (0)" aria-label="Fit">Fit</button>
  <vscode-checkbox id="loop"${o.loop ? ' checked' : ''}>Loop the event under the cursor</vscode-checkbox>
  <span id="clock" aria-live="off"></span>
</div>
<div id="timeline">
  <canvas id="track" tabindex="0" role="listbox" aria-label="Timeline: arrows move between events, Enter goes to the line, +/- zoom, 0 fits, Space plays"></canvas>
  <canvas id="overlay" aria-hidden="true"></canvas>
</div>
<div id="announce" class="sr-only" aria-live="polite"></div>
<script type="module" nonce="${nonce}" src="${o.script}"></script>
</body></html>`;
}
