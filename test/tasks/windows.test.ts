import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parseVscan, validateVscan, DEFAULT_SETTINGS } from '../../server/src/language';
import { VideoModel } from '../../server/src/tasks/videoTasks';
import { mergeWindowEvents, planWindows } from '../../server/src/tasks/windows';
import { windowsToVscan } from '../../server/src/tasks/writeResult';
import { TRAINING_DEFAULTS, planFrames, withTimeOrigin } from '../../server/src/video/plan';
import { makeIndexVideo } from '../helpers/videos';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

test('window arithmetic: overlapping windows cover the video; a short video is one window', () => {
  assert.deepEqual(planWindows(90, 120, 10), [{ start: 0, end: 90 }]);
  assert.deepEqual(planWindows(600, 120, 10), [
    { start: 0, end: 120 }, { start: 110, end: 230 }, { start: 220, end: 340 }, { start: 330, end: 450 }, { start: 440, end: 560 }, { start: 550, end: 600 },
  ]);
  // The last window is always longer than the overlap: it starts one step after the previous.
  assert.deepEqual(planWindows(235, 120, 10), [{ start: 0, end: 120 }, { start: 110, end: 230 }, { start: 220, end: 235 }]);
  assert.throws(() => planWindows(100, 10, 10), /overlap must be shorter/);
});

test('events seen twice in an overlap are merged, keeping the more central copy', () => {
  const { captions, merged } = mergeWindowEvents([
    { window: { start: 0, end: 120 }, scene: 'a', format_ok: true, events: [{ start: 10, end: 20, description: 'a man opens a door' }, { start: 112, end: 118, description: 'the dog barks loudly' }] },
    { window: { start: 110, end: 230 }, scene: 'b', format_ok: true, events: [{ start: 112.5, end: 118, description: 'the dog barks' }, { start: 113, end: 117, description: 'a car drives past' }] },
  ]);
  assert.equal(merged, 1);
  // The first copy's middle (115) is 55 s from its window's centre (60); the second's
  // (115.25) is 54.75 s from 170: the second copy is the more central one and is kept.
  assert.deepEqual(captions[0].events.map((e) => e.description), ['a man opens a door']);
  assert.deepEqual(captions[1].events.map((e) => e.description), ['the dog barks', 'a car drives past']);
});

test('a windowed caption is a valid .vscan with one Scene block per window', () => {
  const text = windowsToVscan([
    { window: { start: 0, end: 120 }, scene: 'First part.', format_ok: true, events: [{ start: 1, end: 2, description: 'x' }] },
    { window: { start: 110, end: 230 }, scene: 'Second part.', format_ok: true, events: [{ start: 121, end: 122.5, description: 'y' }] },
  ], 'long.mp4');
  assert.match(text, /^Scene <110\.0 - 230\.0>: Second part\.$/m);
  const doc = parseVscan(text);
  assert.equal(doc.blocks.length, 2);
  const video = { path: '/x/long.mp4', uri: 'file:///x/long.mp4', explicit: true, exists: true, durationSec: 230 };
  assert.deepEqual(validateVscan(doc, { video }, DEFAULT_SETTINGS), []);
});

test('a window is shown to the model from time 0', () => {
  const plan = planFrames({ frameCount: 3000, fps: 10, width: 64, height: 48 }, { ...TRAINING_DEFAULTS, start: 120, end: 240 });
  assert.ok(plan.timestampsSec[0] >= 120);
  const shifted = withTimeOrigin(plan, 120);
  assert.equal(shifted.timestampsSec[0], plan.timestampsSec[0] - 120);
  assert.match(shifted.timestampText[0], /^<0\.\d seconds>$/);
  assert.deepEqual(shifted.frameIndices, plan.frameIndices);
});

let model: VideoModel;
let video: string;
before(async () => {
  const { dir, tiny } = await tempTinyCheckpoint('vscan-windows-', 4);
  model = await VideoModel.load(tiny, { executionProvider: 'cpu', cacheDir: join(dir, 'cache') });
  video = await makeIndexVideo(join(dir, 'long.mkv'), 100, '32x24', 10); // 10 s
});

test('caption and find over windows of a longer video, in source time', async () => {
  const caption = await model.captionLong(video, { sampling: TRAINING_DEFAULTS, maxNewTokens: 6, window: 4, overlap: 1 });
  assert.deepEqual(caption.windows.map((w) => [w.window.start, w.window.end]), [[0, 4], [3, 7], [6, 10]]);
  for (const w of caption.windows) for (const e of w.events) assert.ok(e.start >= w.window.start, 'events are in source time');
  const found = await model.findLong(video, 'the frame turns blue', { sampling: TRAINING_DEFAULTS, maxNewTokens: 8, window: 4, overlap: 1 });
  assert.ok(found.candidates.length >= 3);
  assert.ok(found.span === null || found.span.length === 2);
});
