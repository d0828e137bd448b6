import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { applyTimelineDiff, LARGE_DOCUMENT_CHARS, type TimelineEvent } from '../../server/src/language';
import { FilmstripRequest, TimelineEditRequest, TimelineNotification, type TimelineParams, WatchTimelineNotification } from '../../server/src/lsp/protocol';
import { TestClient } from '../helpers/lspClient';
import { makeVideo, tempDir } from '../helpers/videos';

let client: TestClient;
let dir: string;
const received: TimelineParams[] = [];
let waiters: { accept: (p: TimelineParams) => boolean; resolve: (p: TimelineParams) => void }[] = [];

/** The next timeline notification satisfying `accept` (waits on the event, fails after 20 s). */
function timeline(accept: (p: TimelineParams) => boolean): Promise<TimelineParams> {
  const seen = received.find(accept);
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching timeline; got versions ${received.map((r) => r.version)}`)), 20_000);
    waiters.push({ accept, resolve: (p) => { clearTimeout(timer); resolve(p); } });
  });
}

before(async () => {
  dir = await tempDir();
  await makeVideo(join(dir, 'clip.mp4'), 3);
  client = await TestClient.start(undefined, 'stdio', { initialization: { previewCache: join(dir, 'cache') } });
  client.connection.onNotification(TimelineNotification.type, (params) => {
    received.push(params);
    waiters = waiters.filter((w) => (w.accept(params) ? (w.resolve(params), false) : true));
  });
});

after(async () => {
  assert.equal(await client.stop(), 0);
});

test('a watched document\'s timeline comes whole, then as differences, with the probed video', async () => {
  const uri = pathToFileURL(join(dir, 'clip.vscan')).href;
  const lines = ['Video: clip.mp4', 'Scene <0.0 - 3.0>: x', 'Events:'];
  for (let i = 0; i < 200; i++) lines.push(`<${(i * 0.01).toFixed(2)} - ${(i * 0.01 + 0.01).toFixed(2)}> e${i}`);
  await client.open(uri, lines.join('\n'));
  await client.diagnostics(uri, (p) => p.version === 1);
  assert.equal(received.length, 0, 'nothing is sent before a preview watches');
  await client.connection.sendNotification(WatchTimelineNotification.type, { uri, watch: true });
  // The first message is whole; the video's facts may come with it or, when the probe lands
  // after the validation stopped waiting for it (a loaded machine), in a later message.
  const whole = await timeline((p) => p.version === 1);
  assert.equal(whole.baseVersion, null);
  assert.equal(whole.diff.events.length, 200);
  assert.deepEqual(whole.scenes, [{ line: 1, start: 0, end: 3 }]);
  assert.deepEqual(whole.format, { style: 'seconds', fractionDigits: 2 });
  const full = await timeline((p) => p.version === 1 && p.video?.durationSec !== undefined);
  assert.equal(full.video?.name, 'clip.mp4');
  assert.ok(Math.abs((full.video?.fps ?? 0) - 10) < 1, `fps ${full.video?.fps}`);
  assert.equal(full.video?.proxyReason, undefined, 'H.264 plays in a webview');
  // What the model is shown: at 2 fps, the 3 s clip gives six frames, one window.
  assert.deepEqual(full.video?.windows, [{ start: 0, end: 3 }]);
  assert.equal(full.video?.modelFrames?.length, 6);

  // A new line near the top: one event is sent, the 200 below only shift.
  await client.change(uri, 2, [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, text: '<2.50 - 2.60> new\n' }]);
  const update = await timeline((p) => p.version === 2);
  assert.equal(update.baseVersion, 1);
  assert.deepEqual([update.diff.start, update.diff.deleteCount, update.diff.events.length, update.diff.lineDelta], [0, 0, 1, 1]);
  const events: TimelineEvent[] = applyTimelineDiff(structuredClone(whole.diff.events), update.diff);
  assert.equal(events.length, 201);
  assert.equal(events[200].line, 203);

  // Edits from the playhead come back as text edits for that version.
  const insert = await client.connection.sendRequest(TimelineEditRequest.type, { uri, version: 2, edit: { kind: 'insert', start: 2.999 } });
  assert.deepEqual(insert.edits.map((e) => e.newText), ['\n<2.99 - 3.00> '], 'clamped to the 3 s video');
  const stale = await client.connection.sendRequest(TimelineEditRequest.type, { uri, version: 1, edit: { kind: 'insert', start: 1 } });
  assert.match(stale.error ?? '', /changed/);
  await client.connection.sendNotification(WatchTimelineNotification.type, { uri, watch: false });
});

test('the filmstrip: the frames of the timeline\'s model row, decoded into the cache the client named; none untrusted', async () => {
  const uri = pathToFileURL(join(dir, 'strip.vscan')).href;
  await client.open(uri, 'Video: clip.mp4\nScene: x\nEvents:\n<0.0 - 1.0> a\n');
  await client.diagnostics(uri, (p) => p.version === 1);
  await client.connection.sendNotification(WatchTimelineNotification.type, { uri, watch: true });
  const model = await timeline((p) => p.uri === uri && p.video?.modelFrames !== undefined);
  const strip = await client.connection.sendRequest(FilmstripRequest.type, { uri });
  assert.ok(strip, 'a filmstrip for a linked, probed video');
  assert.deepEqual(strip.times, model.video?.modelFrames, 'one thumbnail per frame the model is shown');
  const image = fileURLToPath(strip.image);
  assert.ok(image.startsWith(join(dir, 'cache')), `${image} is in the client's folder`);
  assert.ok(existsSync(image));
  await client.connection.sendNotification(WatchTimelineNotification.type, { uri, watch: false });

  const untrusted = await TestClient.start(undefined, 'stdio', { initialization: { trusted: false, previewCache: join(dir, 'cache2') } });
  try {
    await untrusted.open(uri, 'Video: clip.mp4\nScene: x\nEvents:\n<0.0 - 1.0> a\n');
    await untrusted.diagnostics(uri, (p) => p.version === 1);
    assert.equal(await untrusted.connection.sendRequest(FilmstripRequest.type, { uri }), null, 'Restricted Mode runs no ffmpeg');
    assert.equal(existsSync(join(dir, 'cache2')), false);
  } finally {
    assert.equal(await untrusted.stop(), 0);
  }
});

test('a file too large to validate per keystroke still updates its watched timeline from a parse, marks kept', async () => {
  const uri = pathToFileURL(join(dir, 'large.vscan')).href;
  const lines = ['Video: clip.mp4', 'Scene: x', 'Events:', '<2.0 - 1.0> reversed'];
  for (let i = 0, length = 0; length <= LARGE_DOCUMENT_CHARS; i++) {
    const line = `<${(i * 0.0001).toFixed(4)} - ${(i * 0.0001 + 0.0001).toFixed(4)}> an event described at some length, number ${i}`;
    lines.push(line);
    length += line.length + 1;
  }
  await client.open(uri, lines.join('\n') + '\n');
  await client.diagnostics(uri, (p) => p.version === 1);
  await client.connection.sendNotification(WatchTimelineNotification.type, { uri, watch: true });
  const full = await timeline((p) => p.uri === uri && p.version === 1);
  assert.equal(full.diff.events[0].problem, 1, 'the reversed span is marked (from the validation on open)');
  // A keystroke in the last event: no validation (open and save only), but the timeline follows.
  const last = lines.length - 1;
  await client.change(uri, 2, [{ range: { start: { line: last, character: 18 }, end: { line: last, character: 18 } }, text: 'x' }]);
  const update = await timeline((p) => p.uri === uri && p.version === 2);
  assert.equal(update.baseVersion, 1);
  assert.deepEqual([update.diff.start, update.diff.deleteCount, update.diff.events.length], [full.diff.events.length - 1, 1, 1], 'only the typed-in event is sent');
  assert.match(update.diff.events[0].label, /^xan event/);
  await client.connection.sendNotification(WatchTimelineNotification.type, { uri, watch: false });
});
