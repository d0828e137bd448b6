/**
 * Preview benchmarks at 100 / 10,000 / 100,000 events:
 *  - keystroke → timeline difference received, over the real server (stdio), against the
 *    in-process parse + validate of the same text (the least the server must do; parse
 *    alone for a file over the large-file line, validated on open and save only);
 *  - in the real webview script (dist/webview.js) in Chromium, served from a loopback
 *    server: applying a one-event difference and redrawing the track; a seek request →
 *    the video's `seeked`, against setting currentTime directly; and the work per animation
 *    frame while the video plays (the playhead overlay), with the frame interval.
 */
import { createReadStream, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { DEFAULT_SETTINGS, LARGE_DOCUMENT_CHARS, parseVscan, type TimelineEvent, validateVscan } from '../../server/src/language';
import { TimelineNotification, type TimelineParams, WatchTimelineNotification } from '../../server/src/lsp/protocol';
import { TestClient } from '../helpers/lspClient';
import { makeVideo, tempDir } from '../helpers/videos';
import { syntheticVscan } from './language';
import { median, percentile, type Table, timeMs } from './stats';

const SIZES = [100, 10_000, 100_000];
const ROOT = join(__dirname, '..', '..');

async function serverKeystrokes(dir: string, events: number, rows: string[][]): Promise<void> {
  // The synthetic file runs far past the 3 s clip: a wide range tolerance keeps its
  // diagnostics to the few the language benchmark has (otherwise every event is out of range).
  const client = await TestClient.start({ diagnostics: { rangeTolerance: 1e9 } });
  const uri = pathToFileURL(join(dir, `bench${events}.vscan`)).href;
  const text = syntheticVscan(events);
  let waiting: { version: number; resolve: (p: TimelineParams) => void } | undefined;
  client.connection.onNotification(TimelineNotification.type, (p) => {
    if (waiting && p.version === waiting.version) waiting.resolve(p);
  });
  const next = (version: number) => new Promise<TimelineParams>((resolve) => { waiting = { version, resolve }; });
  await client.open(uri, text);
  const first = next(1);
  await client.connection.sendNotification(WatchTimelineNotification.type, { uri, watch: true });
  const whole = await first;
  const wholeBytes = JSON.stringify(whole).length;
  const times: number[] = [];
  let diffBytes = 0;
  const line = text.split('\n').findIndex((l, i) => i > text.split('\n').length / 2 && l.startsWith('<'));
  for (let version = 2; version < 32; version++) {
    const arrived = next(version);
    const began = performance.now();
    await client.change(uri, version, [{ range: { start: { line, character: 12 }, end: { line, character: 12 } }, text: 'x' }]);
    const p = await arrived;
    times.push(performance.now() - began);
    diffBytes = JSON.stringify(p).length;
  }
  await client.stop();
  // The least the server must do per keystroke: parse and validate, or — over the large-file
  // line, where it validates on open and save only — parse alone for the timeline.
  const large = text.length > LARGE_DOCUMENT_CHARS;
  const inProcess = median(timeMs(10, () => {
    const doc = parseVscan(text);
    if (!large) validateVscan(doc, { video: { path: '/x', uri: 'file:///x', explicit: true, exists: true, durationSec: 3 } }, { ...DEFAULT_SETTINGS, rangeTolerance: 1e9 });
  }));
  rows.push([`${events.toLocaleString('en')}${large ? ' (parse only)' : ''}`, median(times).toFixed(1), percentile(times, 95).toFixed(1), inProcess.toFixed(1), `${(median(times) / inProcess).toFixed(1)}×`,
    `${(diffBytes / 1024).toFixed(1)} KiB`, `${(wholeBytes / 1024).toFixed(0)} KiB`]);
}

function events(count: number, seconds: number): TimelineEvent[] {
  const step = seconds / count;
  return Array.from({ length: count }, (_, i) => ({ start: i * step, end: (i + 1) * step, line: i + 4, label: `event number ${i}`, problem: i % 97 === 0 ? 2 : 0 }));
}

/** Serves the page, the webview bundle and the video from one folder on 127.0.0.1. */
function serve(files: Record<string, string>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = files[(req.url ?? '/').split('?')[0]];
    if (!path) return void res.writeHead(404).end();
    const type = path.endsWith('.js') ? 'text/javascript' : path.endsWith('.mp4') ? 'video/mp4' : 'text/html';
    // Byte ranges, as a webview's resource loader serves them: without them the video cannot seek.
    const size = statSync(path).size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      const from = Number(range[1]);
      const to = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      res.writeHead(206, { 'content-type': type, 'accept-ranges': 'bytes', 'content-range': `bytes ${from}-${to}/${size}`, 'content-length': to - from + 1 });
      createReadStream(path, { start: from, end: to }).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-type': type, 'accept-ranges': 'bytes', 'content-length': size });
    createReadStream(path).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve({ server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
  }));
}

async function webviewFigures(dir: string, tables: Table[]): Promise<void> {
  const video = await makeVideo(join(dir, 'clip.mp4'), 180, '320x180', 25);
  const page = join(dir, 'index.html');
  // The preview's markup as the extension writes it, minus VS Code: a stub API records messages.
  await writeFile(page, `<!DOCTYPE html><html><body data-document="file:///bench.vscan" style="width:900px">
<video id="video" preload="auto" src="/clip.mp4" muted></video>
<div id="toolbar"><button id="zoom-out"></button><button id="zoom-in"></button><button id="zoom-fit"></button><input type="checkbox" id="loop"><span id="clock"></span></div>
<div id="timeline" style="position:relative"><canvas id="track"></canvas><canvas id="overlay" style="position:absolute;left:0;top:0"></canvas></div><div id="announce"></div>
<script>window.sent=[];window.acquireVsCodeApi=()=>({postMessage:(m)=>sent.push(m),getState:()=>undefined,setState:()=>{}});</script>
<script type="module" src="/webview.js"></script></body></html>`);
  const { server, url } = await serve({ '/': page, '/webview.js': join(ROOT, 'dist', 'webview.js'), '/clip.mp4': video });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'] });
  const rows: string[][] = [];
  try {
    for (const count of SIZES) {
      const tab = await browser.newPage({ viewport: { width: 1000, height: 700 } });
      // tsx names functions with a helper the page does not have.
      await tab.addInitScript('window.__name = (f) => f');
      await tab.goto(url);
      await tab.waitForFunction(() => (window as unknown as { videoScanPreview?: unknown }).videoScanPreview && (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
      const figures = await tab.evaluate(async ({ all, count }) => {
        type Preview = { timeline: { drawTrackNow(): void; lastTrackMs: number; lastOverlayMs: number; zoom(f: number): void; fit(): void } };
        const preview = (window as unknown as { videoScanPreview: Preview }).videoScanPreview;
        const video = document.querySelector('video') as HTMLVideoElement;
        const send = (data: unknown) => window.dispatchEvent(new MessageEvent('message', { data }));
        const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
        const format = { style: 'seconds', fractionDigits: 3 };
        send({ type: 'timeline', version: 1, baseVersion: null, diff: { start: 0, deleteCount: 0, events: all, lineDelta: 0 }, scenes: [], format, durationSec: 180, fps: 25 });
        // Keystroke: one event's label changes → the model, lanes, index and the track.
        const update: number[] = [];
        for (let v = 2; v < 22; v++) {
          const i = Math.floor(count / 2);
          const began = performance.now();
          send({ type: 'timeline', version: v, baseVersion: v - 1, diff: { start: i, deleteCount: 1, events: [{ ...all[i], label: `changed ${v}` }], lineDelta: 0 }, scenes: [], format, durationSec: 180, fps: 25 });
          preview.timeline.drawTrackNow();
          update.push(performance.now() - began);
        }
        const fitDraw = preview.timeline.lastTrackMs;
        preview.timeline.zoom(40);
        preview.timeline.drawTrackNow();
        const zoomedDraw = preview.timeline.lastTrackMs;
        preview.timeline.fit();
        // Cursor move → the seek request → the video has seeked; baseline: currentTime set directly.
        const seeked = () => new Promise<void>((r) => video.addEventListener('seeked', () => r(), { once: true }));
        const viaPreview: number[] = [];
        const direct: number[] = [];
        for (let k = 0; k < 12; k++) {
          const t = 5 + ((k * 37) % 170);
          let began = performance.now();
          let done = seeked();
          send({ type: 'seek', seconds: t, version: 100 + k });
          await done;
          viaPreview.push(performance.now() - began);
          began = performance.now();
          done = seeked();
          video.currentTime = t + 0.5;
          await done;
          direct.push(performance.now() - began);
        }
        // Playing: frame intervals and the work per frame (overlay + playing-event lookup).
        const intervals: number[] = [];
        const work: number[] = [];
        await video.play();
        await new Promise<void>((resolve) => {
          let last = performance.now();
          const tick = (now: number) => {
            intervals.push(now - last);
            last = now;
            work.push(preview.timeline.lastOverlayMs);
            if (intervals.length < 120) requestAnimationFrame(tick);
            else resolve();
          };
          requestAnimationFrame(tick);
        });
        video.pause();
        return { update: [med(update), p95(update)], fitDraw, zoomedDraw, seek: [med(viaPreview), med(direct)], frame: [med(intervals), p95(intervals), med(work), p95(work)] };
      }, { all: events(count, 180), count });
      rows.push([count.toLocaleString('en'), `${figures.update[0].toFixed(1)} / ${figures.update[1].toFixed(1)}`, `${figures.fitDraw.toFixed(1)} / ${figures.zoomedDraw.toFixed(1)}`,
        `${figures.seek[0].toFixed(1)}`, `${figures.seek[1].toFixed(1)}`, `${(figures.seek[0] / figures.seek[1]).toFixed(2)}×`,
        `${figures.frame[0].toFixed(1)} / ${figures.frame[1].toFixed(1)}`, `${figures.frame[2].toFixed(2)} / ${figures.frame[3].toFixed(2)}`]);
      await tab.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  tables.push({
    title: 'Preview webview in Chromium (ms)',
    head: ['events', 'one-event diff → track redrawn (median / p95)', 'track draw: whole video / zoomed ×40', 'seek request → seeked', 'baseline: currentTime set directly', 'ratio', 'frame interval while playing (median / p95)', 'work per frame (median / p95)'],
    rows,
    notes: ['The real `dist/webview.js` with a stub `acquireVsCodeApi`, served from 127.0.0.1 to headless Chromium (`--disable-gpu`); a 180 s 25 fps H.264 clip. "Work per frame" is the playhead overlay drawn every animation frame; the track itself is not redrawn while playing unless the playing event changes.'],
  });
}

export async function benchPreview(tables: Table[]): Promise<void> {
  const dir = await tempDir();
  await makeVideo(join(dir, 'clip.mp4'), 3);
  const rows: string[][] = [];
  for (const count of SIZES) await serverKeystrokes(dir, count, rows);
  tables.push({
    title: 'Keystroke → timeline difference at the client, real server over stdio (ms)',
    head: ['events', 'median', 'p95', 'in-process baseline (parse + validate)', 'ratio', 'difference sent', 'whole model'],
    rows,
    notes: ['One character typed into a description in the middle of the file, 30 times; the server parses once for diagnostics and the timeline together and sends only the changed event. At 100,000 events (6.4 M characters, over the 2 M line) the server validates on open and save only; per keystroke the timeline comes from a parse alone, and so does the baseline.'],
  });
  await webviewFigures(dir, tables);
}
