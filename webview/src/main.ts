/**
 * The preview webview: plays the linked video, draws every event on a timeline (one lane
 * per overlapping group, problems marked, the playhead, Find results), follows seek
 * requests from the editor and reports the playhead back — throttled, and ignoring seek
 * requests older than the newest applied (documents are versioned).
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import type { FromWebview, PreviewState, TimelineEvent, ToWebview } from './messages';
import { assignLanes } from './timeline';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): PreviewState | undefined;
  setState(state: PreviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const video = document.getElementById('video') as HTMLVideoElement;
const timeline = document.getElementById('timeline') as HTMLDivElement;
const loopBox = document.getElementById('loop') as HTMLElement & { checked: boolean };
const documentUri = document.body.dataset.document ?? '';

/** Time updates to the extension at most every 50 ms. */
const THROTTLE_MS = 50;

let events: TimelineEvent[] = [];
let duration = 0;
let newestSeek = -1;
let loop: { start: number; end: number } | undefined;
let activeLine: number | undefined;
let found: { start: number; end: number } | undefined;
let lastSent = 0;

function durationOf(): number {
  return Number.isFinite(video.duration) && video.duration > 0 ? video.duration : Math.max(duration, ...events.map((e) => e.end), 1);
}

function draw(): void {
  const total = durationOf();
  const { lanes, count } = assignLanes(events);
  timeline.replaceChildren();
  timeline.style.height = `${Math.max(1, count) * 14 + 10}px`;
  const percent = (seconds: number) => `${Math.min(100, Math.max(0, (seconds / total) * 100))}%`;
  events.forEach((event, i) => {
    const bar = document.createElement('div');
    bar.className = `bar${event.problem ? ' problem' : ''}${event.line === activeLine ? ' active' : ''}`;
    bar.style.left = percent(event.start);
    bar.style.width = `max(2px, calc(${percent(event.end)} - ${percent(event.start)}))`;
    bar.style.top = `${lanes[i] * 14 + 4}px`;
    bar.title = `${event.start.toFixed(1)}–${event.end.toFixed(1)} ${event.label}`;
    bar.addEventListener('click', () => vscode.postMessage({ type: 'revealLine', line: event.line }));
    timeline.append(bar);
  });
  if (found) {
    const mark = document.createElement('div');
    mark.className = 'found';
    mark.style.left = percent(found.start);
    mark.style.width = `calc(${percent(found.end)} - ${percent(found.start)})`;
    timeline.append(mark);
  }
  const head = document.createElement('div');
  head.className = 'playhead';
  head.style.left = percent(video.currentTime);
  timeline.append(head);
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'events':
      events = message.events;
      duration = message.durationSec ?? duration;
      draw();
      break;
    case 'seek':
      if (message.version < newestSeek) return; // a stale request from an older document
      newestSeek = message.version;
      loop = loopBox.checked && message.loopEnd !== undefined ? { start: message.seconds, end: message.loopEnd } : undefined;
      video.currentTime = message.seconds;
      draw();
      break;
    case 'found':
      found = { start: message.start, end: message.end };
      video.currentTime = message.start;
      draw();
      break;
    case 'activeLine':
      activeLine = message.line;
      draw();
      break;
  }
});

video.addEventListener('timeupdate', () => {
  if (loop && video.currentTime >= loop.end) video.currentTime = loop.start;
  vscode.setState({ documentUri, seconds: video.currentTime });
  const now = Date.now();
  if (now - lastSent >= THROTTLE_MS) {
    lastSent = now;
    vscode.postMessage({ type: 'time', seconds: video.currentTime, playing: !video.paused });
  }
  const head = timeline.querySelector<HTMLDivElement>('.playhead');
  if (head) head.style.left = `${Math.min(100, (video.currentTime / durationOf()) * 100)}%`;
});
video.addEventListener('loadedmetadata', draw);
video.addEventListener('error', () => {
  vscode.postMessage({ type: 'playbackError', message: video.error?.message || `media error ${video.error?.code ?? ''}` });
});

const restored = vscode.getState();
if (restored && restored.documentUri === documentUri) video.currentTime = restored.seconds;
vscode.postMessage({ type: 'ready' });
