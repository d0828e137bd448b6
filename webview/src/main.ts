/**
 * The preview webview's script: plays the linked video and follows seek requests from the
 * editor, dropping requests older than one already applied.
 */
import type { FromWebview, ToWebview } from './messages';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
let newestVersion = -1;

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  if (message.type === 'seek') {
    if (message.version < newestVersion) return;
    newestVersion = message.version;
    const video = document.querySelector('video');
    if (video) video.currentTime = message.seconds;
  }
});

document.querySelector('video')?.addEventListener('timeupdate', (event) => {
  vscode.postMessage({ type: 'time', seconds: (event.target as HTMLVideoElement).currentTime });
});

vscode.postMessage({ type: 'ready' });
