/**
 * The frame plan against hand-verified values. Each expected value below was worked out
 * by hand from the qwen-vl-utils / transformers formulas (docs/video-pipeline.md); the
 * float32 index ties were found by a numpy float32 emulation of torch.linspace and
 * checked by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linspaceIndices, planFrames, PlanError, samplingFromEnv, smartNFrames, smartResize, TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { pythonFixed1, roundHalfEven } from '../../server/src/video/pyround';

const video = (frameCount: number, fps: number, width = 320, height = 240) => ({ frameCount, fps, width, height });

test('round half to even and Python {:.1f}', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, 4, 2, 3]);
  assert.deepEqual([0.25, 0.75, 1.25, 2.25, 0.35, 0.05, 1.45, 2.0, 119.75].map(pythonFixed1),
    ['0.2', '0.8', '1.2', '2.2', '0.3', '0.1', '1.4', '2.0', '119.8']);
  // 0.35 is 0.34999999999999997779… in binary: not a tie, rounds down in both languages;
  // 1.45 is 1.4499999999999999556…: "1.4"; 0.05 is 0.05000000000000000277…: "0.1".
});

const CASES: { name: string; frames: number; fps: number; window?: [number, number]; indices: number[]; text: string[] }[] = [
  // 75/25·2 = 6 frames; linspace(0, 74, 6) = 0, 14.8, 29.6, 44.4, 59.2, 74.
  { name: '3 s at 25 fps', frames: 75, fps: 25, indices: [0, 15, 30, 44, 59, 74], text: ['<0.3 seconds>', '<1.5 seconds>', '<2.7 seconds>'] },
  // 8/4·2 = 4; linspace(0, 7, 4) = 0, 2.33, 4.67, 7; pair 1: (0/4 + 2/4)/2 = 0.25 → "0.2" (tie to even).
  { name: '{:.1f} tie', frames: 8, fps: 4, indices: [0, 2, 5, 7], text: ['<0.2 seconds>', '<1.5 seconds>'] },
  // Three frames: max_frames = floor2(min(240, 3)) = 2 → [0, 2].
  { name: 'a 3-frame clip', frames: 3, fps: 30, indices: [0, 2], text: ['<0.0 seconds>'] },
  // 10 frames at 30 fps: 10/30·2 = 0.67 → min 4 frames; linspace(0, 9, 4) = 0, 3, 6, 9.
  { name: 'short clip takes the minimum', frames: 10, fps: 30, indices: [0, 3, 6, 9], text: ['<0.1 seconds>', '<0.2 seconds>'] },
  // Window 12.3–40 s at 10 fps: frames ceil(123)…floor(400) = 123…400 (278 frames) →
  // 278/10·2 = 55.6 → 54 frames from 123 to 400.
  { name: 'a window', frames: 1000, fps: 10, window: [12.3, 40], indices: linspaceIndices(123, 400, 54), text: [] },
];

for (const c of CASES) {
  test(`plan: ${c.name}`, () => {
    const plan = planFrames(video(c.frames, c.fps), { ...TRAINING_DEFAULTS, start: c.window?.[0], end: c.window?.[1] });
    assert.deepEqual(plan.frameIndices, c.indices);
    if (c.text.length) assert.deepEqual(plan.timestampText, c.text);
    assert.equal(plan.timestampsSec.length, Math.ceil(plan.frameIndices.length / 2));
    assert.deepEqual(plan.frameTimesSec, plan.frameIndices.map((i) => i / c.fps));
  });
}

test('window frame range and sample count by hand', () => {
  const plan = planFrames(video(1000, 10), { ...TRAINING_DEFAULTS, start: 12.3, end: 40 });
  assert.deepEqual([plan.firstFrame, plan.lastFrame, plan.frameIndices.length], [123, 400, 54]);
  assert.equal(plan.frameIndices[0], 123);
  assert.equal(plan.frameIndices[53], 400);
});

test('float32 linspace ties round half to even (Math.round would not)', () => {
  // float32 torch.linspace(0, 30676, 240)[138] is exactly 17712.5; (0, 31460, 240)[129] is 16980.5.
  assert.equal(linspaceIndices(0, 30676, 240)[138], 17712);
  assert.equal(Math.round(17712.5), 17713);
  assert.equal(linspaceIndices(0, 31460, 240)[129], 16980);
  // A 30-minute clip at 30 fps is planned (240 frames) from the probe alone.
  const long = planFrames(video(54_000, 30, 1920, 1080), TRAINING_DEFAULTS);
  assert.equal(long.frameIndices.length, 240);
  assert.deepEqual([long.frameIndices[0], long.frameIndices[239]], [0, 53999]);
  assert.deepEqual(long.gridThw, [120, 20, 36]);
  assert.equal(long.visualTokens, 120 * 180);
});

test('smart_resize as trained', () => {
  const factor = 32;
  const min = 128 * 32 * 32;
  // 1920×1080 → 576×320 (reference fact); 1279×721: round gives 1280×736 > 200704,
  // beta = √(1279·721/200704) ≈ 2.1435 → floor(10.51)·32 × floor(18.65)·32 = 320×576.
  assert.deepEqual(smartResize(1080, 1920, factor, min, 200704), { height: 320, width: 576 });
  assert.deepEqual(smartResize(721, 1279, factor, min, 200704), { height: 320, width: 576 });
  assert.deepEqual(smartResize(1920, 1080, factor, min, 200704), { height: 576, width: 320 });
  // 320×240: round(7.5) = 8 (half to even) → 256×320 < min → scaled up to 320×448.
  assert.deepEqual(smartResize(240, 320, factor, min, 200704), { height: 320, width: 448 });
  assert.throws(() => smartResize(10, 4000, factor, min, 200704), PlanError);
});

test('smart_nframes bounds and errors', () => {
  assert.equal(smartNFrames(3600 * 30, 30, TRAINING_DEFAULTS), 240);
  assert.equal(smartNFrames(61, 30, TRAINING_DEFAULTS), 4);
  assert.throws(() => smartNFrames(1, 30, TRAINING_DEFAULTS), /at least 2/);
  assert.throws(() => planFrames(video(100, 10), { ...TRAINING_DEFAULTS, start: 50, end: 60 }), /selects no frames/);
});

test('environment overrides of the training defaults', () => {
  assert.deepEqual(samplingFromEnv({}), TRAINING_DEFAULTS);
  assert.deepEqual(samplingFromEnv({ FPS: '1', FPS_MIN_FRAMES: '8', FPS_MAX_FRAMES: '64', VIDEO_MAX_PIXELS: '50176' }),
    { fps: 1, minFrames: 8, maxFrames: 64, maxPixels: 50176 });
  assert.throws(() => samplingFromEnv({ FPS_MAX_FRAMES: 'many' }), /FPS_MAX_FRAMES=many/);
  const plan = planFrames(video(54_000, 30, 1920, 1080), samplingFromEnv({ FPS_MAX_FRAMES: '64', VIDEO_MAX_PIXELS: '100352' }));
  assert.equal(plan.frameIndices.length, 64);
  // qwen-vl-utils never goes below int(1.05 · min_pixels) = 137625 pixels per frame, so a
  // smaller VIDEO_MAX_PIXELS lands there: 1920×1080 → 480×256 (β = √(2073600/137625)).
  assert.deepEqual([plan.resizedWidth, plan.resizedHeight], [480, 256]);
});
