/**
 * Presentation times on a variable-frame-rate video: the prompt keeps index ÷ fps, and what
 * is written (and sought to) is when the frame plays. The VFR video is made with ffmpeg's
 * setpts: 30 frames, the first 15 at 10 fps, the rest 0.3 s apart.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { parseCaption } from '../../server/src/tasks/parse';
import { eventsInSourceTime, sourceTimes } from '../../server/src/tasks/videoTasks';
import { windowsToVscan } from '../../server/src/tasks/writeResult';
import { prepareVideo, type PreparedVideo } from '../../server/src/video/pipeline';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { modelToPresentation } from '../../server/src/video/presentation';
import { parseVscan } from '../../server/src/language';
import { vscan } from '../helpers/cli';
import { makeIndexVideo, tempDir } from '../helpers/videos';

/** When frame n plays in the VFR video. */
const playsAt = (n: number) => (n < 15 ? n * 0.1 : 1.5 + (n - 15) * 0.3);

let dir: string;
let vfr: string;
let cfr: string;
let prepared: PreparedVideo;

before(async () => {
  dir = await tempDir();
  vfr = await makeIndexVideo(join(dir, 'phone.mkv'), 30, '32x24', 10, 'if(lt(N,15),N*0.1,1.5+(N-15)*0.3)/TB');
  cfr = await makeIndexVideo(join(dir, 'steady.mkv'), 30, '32x24', 10);
  prepared = await prepareVideo(vfr, { sampling: TRAINING_DEFAULTS });
});

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} ≠ ${expected}`);

test('probe --json says whether a video is VFR, and when its planned frames play', () => {
  const json = JSON.parse(vscan(['probe', vfr, '--json']).stdout);
  assert.equal(json.vfr, true);
  close(json.maxFrameOffsetSec, playsAt(29) - 29 / 10, 'largest offset: the last frame');
  json.plan.frameIndices.forEach((index: number, i: number) => close(json.plan.presentationSec[i], playsAt(index), `frame ${index}`));
  const steady = JSON.parse(vscan(['probe', cfr, '--json']).stdout);
  assert.equal(steady.vfr, false);
  assert.deepEqual(steady.plan.presentationSec, steady.plan.frameTimesSec);
});

test('the prompt keeps the training convention; the prepared frames know when they play', () => {
  assert.deepEqual(prepared.plan.frameIndices, [0, 6, 12, 17, 23, 29]);
  assert.deepEqual(prepared.plan.timestampText, ['<0.3 seconds>', '<1.4 seconds>', '<2.6 seconds>'], 'index ÷ fps, as trained');
  assert.equal(prepared.timing?.vfr, true);
  prepared.plan.frameIndices.forEach((index, i) => close(prepared.presentationSec![i], playsAt(index), `frame ${index}`));
});

test('the times written to the .vscan are presentation times', () => {
  // The model answers on the prompt's clock: frame 17 is at 1.7 s there, frame 29 at 2.9 s;
  // 2.0 s lies 0.3/0.6 of the way from frame 17 (1.7) to frame 23 (2.3).
  const answer = parseCaption('Scene: a counter.\nEvents:\n<0.6 - 1.2> steady part\n<1.7 - 2.9> the slow part\n<2.0 - 2.0> a moment\n');
  const events = eventsInSourceTime(answer.events, sourceTimes({ prepared }, 0));
  const text = windowsToVscan([{ window: { start: 0, end: 5.8 }, scene: answer.scene, events, format_ok: true }], 'phone.mkv');
  const written = parseVscan(text).events.map((e) => [e.startValue, e.endValue]);
  const between = playsAt(17) + 0.5 * (playsAt(23) - playsAt(17));
  assert.deepEqual(written, [[0.6, 1.2], [playsAt(17), playsAt(29)], [Number(between.toFixed(1)), Number(between.toFixed(1))]].map((span) => span.map((t) => Number(t.toFixed(1)))));
  assert.match(text, /<2\.1 - 5\.7> the slow part/, 'not <1.7 - 2.9>, where index ÷ fps would put it');
});

test('a window of a long video: its model times start at 0 and map back to the whole video', async () => {
  const window = await prepareVideo(vfr, { sampling: { ...TRAINING_DEFAULTS, start: 1.5, end: 2.9 } });
  assert.equal(window.plan.frameIndices[0], 15);
  const toSource = sourceTimes({ prepared: window }, 1.5);
  close(toSource(0), playsAt(15), 'the window start');
  close(toSource(2.9 - 1.5), playsAt(29), 'the window end');
});

test('without presentation times the convention stands (shifted by the window origin); outside the sampled frames, times keep their distance', () => {
  const plan = { frameTimesSec: [1, 2, 3] };
  assert.equal(modelToPresentation(plan, undefined, 10)(1.5), 11.5);
  const map = modelToPresentation(plan, [1, 4, 5], 0);
  assert.equal(map(2.5), 4.5);
  assert.equal(map(3.5), 5.5, 'after the last frame: shifted like it');
  assert.equal(map(0.5), 0.5, 'before the first: shifted like it');
  assert.equal(modelToPresentation(plan, [3, 4, 5], 0)(0), 2);
  assert.equal(modelToPresentation({ frameTimesSec: [1, 1, 2] }, [1, 1, 3], 0)(1.5), 2, 'a repeated frame adds no knot');
});
