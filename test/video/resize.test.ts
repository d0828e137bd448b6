import assert from 'node:assert/strict';
import { test } from 'node:test';
import { axisWeights, FrameResizer, resizeAxis } from '../../server/src/video/resize';
import { referenceResize } from '../helpers/resizeReference';

function noise(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

test('weights are normalised and cover the antialiasing support', () => {
  const { first, weights } = axisWeights(1920, 576);
  weights.forEach((w) => assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-12));
  // Shrinking by 10/3: support 2·10/3 on each side → up to 15 taps.
  const taps = Math.max(...weights.map((w) => w.length));
  assert.ok(taps >= 13 && taps <= 15, String(taps));
  assert.equal(first[0], 0);
  const axis = resizeAxis(1920, 576);
  assert.ok(axis.precision > 14 && axis.precision <= 22);
});

test('a constant image stays constant; an unchanged size is the identity', () => {
  const flat = new Uint8Array(50 * 30 * 3).fill(77);
  assert.ok(new FrameResizer(50, 30, 32, 64).resize(flat).every((v) => v === 77));
  const random = noise(16 * 16 * 3, 1);
  assert.deepEqual(new FrameResizer(16, 16, 16, 16).resize(random), random);
});

test('fixed point stays within one level of a float64 reference of the same uint8 two-pass filter', () => {
  for (const [w, h, ow, oh] of [[1920, 1080, 576, 320], [1279, 721, 576, 320], [320, 240, 448, 320], [33, 17, 64, 32]]) {
    const input = noise(w * h * 3, w + h);
    const ours = new FrameResizer(w, h, ow, oh).resize(input);
    const reference = referenceResize(input, w, h, ow, oh);
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - reference[i]));
    assert.ok(worst < 1.5, `${w}×${h}→${ow}×${oh}: max deviation ${worst}`);
  }
});

test('rejects a frame of the wrong size', () => {
  assert.throws(() => new FrameResizer(4, 4, 2, 2).resize(new Uint8Array(10)), /expected 4×4×3/);
});
