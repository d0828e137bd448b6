/**
 * The preview webview: plays the linked video, shows the events as captions over it and on
 * a canvas timeline (timelineCanvas.ts), follows seek and transport requests from the
 * editor and reports the playhead back — throttled, and ignoring seek requests older than
 * the newest applied (documents are versioned). The model arrives as differences.
 */
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import { applyTimelineDiff, type TimelineEvent } from '../../server/src/language/timeline';
import { EventCaptions } from './captions';
import type { FromWebview, PreviewState, ToWebview } from './messages';
import { rulerLabel } from './ruler';
import { TimelineCanvas } from './timelineCanvas';
import { eventAt, timeTable, type TimeTable } from './timeline';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): PreviewState | undefined;
  setState(state: PreviewState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const video = document.getElementById('video') as HTMLVideoElement;
const loopBox = document.getElementById('loop') as HTMLElement & { checked: boolean };
const clock = document.getElementById('clock') as HTMLSpanElement;
const announcer = document.getElementById('announce') as HTMLDivElement;
const documentUri = document.body.dataset.document ?? '';
let locked = document.body.dataset.locked === 'true';

/** Time updates to the extension at most every 50 ms. */
const THROTTLE_MS = 50;

let events: TimelineEvent[] = [];
let table: TimeTable | undefined;
let version = -1;
let modelDuration: number | undefined;
let newestSeek = -1;
/** A span playing in a loop, or once (then the video pauses at its end). */
let span: { start: number; end: number; once: boolean } | undefined;
let lastSent = 0;
let playingFrame = 0;
const captions = video.hidden ? undefined : new EventCaptions(video);

function duration(): number {
  if (Number.isFinite(video.duration) && video.duration > 0) return video.duration;
  if (modelDuration && modelDuration > 0) return modelDuration;
  // No video: the events' extent, with room to read them as times.
  let end = 0;
  for (const e of events) end = Math.max(end, e.end, e.start);
  return Math.max(10, end * 1.1);
}

function post(message: FromWebview): void {
  vscode.postMessage(message);
}

function saveState(): void {
  vscode.setState({ documentUri, seconds: video.currentTime, zoom: timeline.fitted ? undefined : timeline.view, locked });
}

function seek(seconds: number): void {
  video.currentTime = seconds;
  if (video.hidden) fakeTime = seconds;
  timeline.playheadMoved(false, true);
  showClock();
  sendTime(true);
}

/** The playhead when there is no video to play (the timeline still seeks and edits). */
let fakeTime = 0;
const now = () => (video.hidden ? fakeTime : video.currentTime);

function showClock(): void {
  clock.textContent = `${rulerLabel(now(), 0.01)} / ${rulerLabel(duration(), 0.01)}`;
}

/** The `seq` of the last transport message applied (echoed in time reports). */
let lastTransport = 0;

function sendTime(force = false): void {
  const at = Date.now();
  if (!force && at - lastSent < THROTTLE_MS) return;
  lastSent = at;
  post({ type: 'time', seconds: now(), playing: !video.paused, transport: lastTransport });
}

const timeline = new TimelineCanvas(document.getElementById('track') as HTMLCanvasElement, document.getElementById('overlay') as HTMLCanvasElement, {
  currentTime: now,
  seek,
  togglePlay,
  reveal: (line) => post({ type: 'revealLine', line }),
  select: (event) => {
    timeline.activeLine = event.line;
    seek(event.start);
    timeline.requestDraw();
  },
  retime: (event, start, end) => post({ type: 'retime', line: event.line, from: { start: event.start, end: event.end }, start, end }),
  announce: (text) => { announcer.textContent = text; },
  viewChanged: saveState,
});

function togglePlay(): void {
  if (video.hidden) return;
  if (video.paused) void video.play().catch(() => undefined);
  else video.pause();
}

/** The event playing now, highlighted on the timeline (the extension decorates its line). */
function updatePlaying(): void {
  table ??= timeTable(events);
  const line = eventAt(table, now())?.line;
  if (line !== timeline.playingLine) {
    timeline.playingLine = line;
    timeline.requestDraw();
  }
}

/** While playing, the playhead is drawn every animation frame (the overlay alone: a line). */
function playLoop(): void {
  playingFrame = 0;
  if (span && now() >= span.end) {
    if (span.once) {
      video.pause();
      video.currentTime = span.end;
      span = undefined;
    } else video.currentTime = span.start;
  }
  timeline.playheadMoved(true);
  updatePlaying();
  showClock();
  sendTime();
  if (!video.paused) playingFrame = requestAnimationFrame(playLoop);
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'timeline': {
      if (message.baseVersion !== null && message.baseVersion !== version) {
        post({ type: 'resync' });
        return;
      }
      const whole = message.baseVersion === null;
      events = applyTimelineDiff(whole ? [] : events, message.diff);
      captions?.apply(message.diff, whole);
      version = message.version;
      table = undefined;
      timeline.scenes = message.scenes;
      timeline.format = message.format;
      timeline.fps = message.fps;
      timeline.modelFrames = message.modelFrames ?? [];
      timeline.windows = message.windows ?? [];
      modelDuration = message.durationSec;
      timeline.setEvents(events);
      timeline.setDuration(duration());
      updatePlaying();
      showClock();
      break;
    }
    case 'filmstrip': {
      // Decoded by the extension's server into one sprite; drawn once the image has loaded.
      const image = new Image();
      image.onload = () => timeline.setFilmstrip({ image, times: message.times, tileWidth: message.tileWidth, tileHeight: message.tileHeight, columns: message.columns });
      image.src = message.src;
      break;
    }
    case 'seek':
      if (message.version < newestSeek) return; // a stale request from an older document
      newestSeek = message.version;
      span = message.loopEnd === undefined ? undefined
        : message.play ? { start: message.seconds, end: message.loopEnd, once: message.play === 'once' }
        : loopBox.checked ? { start: message.seconds, end: message.loopEnd, once: false } : undefined;
      seek(message.seconds);
      if (message.play && !video.hidden) void video.play().catch(() => undefined);
      break;
    case 'found':
      timeline.found = { start: message.start, end: message.end, query: message.query };
      seek(message.start);
      timeline.requestDraw();
      break;
    case 'activeLine':
      timeline.activeLine = message.line;
      timeline.requestDraw();
      break;
    case 'locked':
      locked = message.locked;
      saveState();
      break;
    case 'transport': {
      lastTransport = message.seq;
      if (message.action === 'toggle') togglePlay();
      else {
        const frame = 1 / (timeline.fps && timeline.fps > 0 ? timeline.fps : 25);
        if (message.action === 'step') video.pause();
        const delta = message.action === 'step' ? message.frames * frame : message.seconds;
        seek(Math.max(0, Math.min(duration(), now() + delta)));
      }
      break;
    }
  }
});

video.addEventListener('play', () => { if (!playingFrame) playingFrame = requestAnimationFrame(playLoop); sendTime(true); });
video.addEventListener('pause', () => { timeline.playheadMoved(false); sendTime(true); saveState(); });
video.addEventListener('seeked', () => { timeline.playheadMoved(false, true); updatePlaying(); showClock(); saveState(); });
video.addEventListener('loadedmetadata', () => { timeline.setDuration(duration()); showClock(); });
video.addEventListener('error', () => {
  post({ type: 'playbackError', message: video.error?.message || `media error ${video.error?.code ?? ''}` });
});
loopBox.addEventListener('change', () => { if (!loopBox.checked) span = undefined; });
document.getElementById('zoom-in')!.addEventListener('click', () => timeline.zoom(1.5));
document.getElementById('zoom-out')!.addEventListener('click', () => timeline.zoom(1 / 1.5));
document.getElementById('zoom-fit')!.addEventListener('click', () => timeline.fit());

const restored = vscode.getState();
if (restored && restored.documentUri === documentUri) {
  video.currentTime = restored.seconds;
  if (restored.zoom) timeline.setView(restored.zoom);
}
// For the end-to-end tests and benchmarks: the timeline and captions, read-only use.
(window as unknown as { videoScanPreview: unknown }).videoScanPreview = { timeline, captions: () => captions?.activeText() ?? '', events: () => events };
post({ type: 'ready', page: Number(document.body.dataset.page) });
