import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clampView, rulerLabel, snap, snapStep, sortSpans, thumbnailsInView, ticksFor, visibleRange, zoomAround } from '../../webview/src/ruler';

test('ruler ticks adapt to the zoom: labels at least 80 px apart, on round steps', () => {
  assert.deepEqual(ticksFor(0.01), { major: 1, minor: 0.2 }); // 100 px per second
  assert.deepEqual(ticksFor(1), { major: 120, minor: 24 }); // a 3-minute video in 180 px
  assert.equal(ticksFor(0.0005).major, 0.05);
  for (const spp of [0.0003, 0.004, 0.07, 0.9, 13, 400]) {
    const { major, minor } = ticksFor(spp);
    assert.ok(major / spp >= 80 || major === 36000, `labels apart at ${spp} s/px`);
    assert.ok(minor < major && Math.abs(major / minor - Math.round(major / minor)) < 1e-9);
  }
});

test('ruler labels carry the decimals the step needs', () => {
  assert.equal(rulerLabel(65, 5), '1:05');
  assert.equal(rulerLabel(1.5, 0.5), '0:01.5');
  assert.equal(rulerLabel(3725.25, 0.05), '1:02:05.25');
  assert.equal(rulerLabel(59.96, 0.1), '1:00.0', 'rounded once, never 0:60.0');
});

test('zooming keeps the time under the pointer still and stays within limits; the view stays inside the video', () => {
  const view = { viewStart: 10, secondsPerPixel: 0.1 };
  const zoomed = zoomAround(view, 2, 100, { min: 0.001, max: 1 });
  assert.equal(zoomed.secondsPerPixel, 0.05);
  assert.equal(zoomed.viewStart + 100 * zoomed.secondsPerPixel, 20, 'the anchor time stays at 100 px');
  assert.equal(zoomAround(view, 1e6, 0, { min: 0.001, max: 1 }).secondsPerPixel, 0.001);
  assert.deepEqual(clampView({ viewStart: 95, secondsPerPixel: 0.1 }, 200, 100), { viewStart: 80, secondsPerPixel: 0.1 });
  assert.deepEqual(clampView({ viewStart: -5, secondsPerPixel: 1 }, 200, 100), { viewStart: 0, secondsPerPixel: 1 });
});

test('edits snap to the frame grid, or to the written precision when that is coarser', () => {
  assert.equal(snapStep(25, 2), 0.04);
  assert.equal(snapStep(25, 1), 0.1);
  assert.equal(snapStep(undefined, 1), 0.1);
  assert.ok(Math.abs(snap(2.46, 0.04) - 2.48) < 1e-9);
});

test('the events in view are found by binary search, long events reaching in included', () => {
  const spans = [{ start: 0, end: 100 }, { start: 10, end: 11 }, { start: 20, end: 21 }, { start: 30, end: 31 }, { start: 40, end: 41 }];
  const sorted = sortSpans(spans);
  const [from, to] = visibleRange(sorted, 25, 35);
  const visible = Array.from(sorted.order.slice(from, to)).filter((i) => spans[i].end >= 25);
  assert.deepEqual(visible, [0, 3], 'the long first event and the one at 30 s');
  const many = Array.from({ length: 100_000 }, (_, i) => ({ start: i, end: i + 1 }));
  const [a, b] = visibleRange(sortSpans(many), 50_000.5, 50_010);
  assert.ok(b - a <= 12, `${b - a} candidates visited of 100,000`);
});

test('filmstrip thumbnails: at their times, none overlapping, more as the zoom grows, only those in view', () => {
  const times = Array.from({ length: 360 }, (_, i) => i * 0.5); // 2 fps over 3 minutes
  // The whole video in 900 px (0.2 s/px): a frame every 2.5 px, thumbnails 64 px wide.
  const fitted = thumbnailsInView(times, { viewStart: 0, secondsPerPixel: 0.2 }, 900, 64);
  assert.equal(fitted[0].x, 0);
  for (let i = 1; i < fitted.length; i++) assert.ok(fitted[i].x >= fitted[i - 1].x + 65, 'no overlap');
  assert.ok(fitted.length >= 13 && fitted.length <= 15, `${fitted.length} fit`);
  // Zoomed in to 60 s–69 s (0.01 s/px, frames 50 px apart): every frame there has room.
  const zoomed = thumbnailsInView(times, { viewStart: 60, secondsPerPixel: 0.01 }, 900, 40);
  assert.deepEqual(zoomed.map((t) => times[t.index]), [60, 60.5, 61, 61.5, 62, 62.5, 63, 63.5, 64, 64.5, 65, 65.5, 66, 66.5, 67, 67.5, 68, 68.5, 69]);
  assert.deepEqual(zoomed.slice(0, 2).map((t) => t.x), [0, 50]);
  // A wider thumbnail of the frame just before the view still shows its right part.
  const peeking = thumbnailsInView(times, { viewStart: 60, secondsPerPixel: 0.01 }, 900, 64);
  assert.deepEqual([times[peeking[0].index], peeking[0].x], [59.5, -50]);
  assert.deepEqual(thumbnailsInView([], { viewStart: 0, secondsPerPixel: 1 }, 900, 40), []);
});
