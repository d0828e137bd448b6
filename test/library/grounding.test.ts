import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groundHits, groundingWindow, overlapRatio } from '../../server/src/library/grounding';
import type { LibraryHit } from '../../server/src/library/searchIndex';

const hit = (text: string, start: number, end: number, score: number, hasVideo = true): LibraryHit =>
  ({ kind: 'event', line: 0, start, end, text, vscan: `/v/${text}.vscan`, video: hasVideo ? `/v/${text}.mp4` : undefined, score });

test('the window asked about: the hit widened by 15 s (or its own length) each side, never before 0', () => {
  assert.deepEqual(groundingWindow({ start: 5, end: 8 }), { start: 0, end: 23 });
  assert.deepEqual(groundingWindow({ start: 100, end: 140 }), { start: 60, end: 180 });
});

test('overlap ratio is intersection over union', () => {
  assert.equal(overlapRatio([0, 10], [5, 15]), 5 / 15);
  assert.equal(overlapRatio([0, 1], [2, 3]), 0);
  assert.equal(overlapRatio([2, 2], [2, 2]), 1);
});

test('re-ranking: confirmed hits first by agreement, then the rest in text order; only the top k with a video are asked', async () => {
  const hits = [hit('a', 10, 20, 9), hit('novideo', 0, 1, 8, false), hit('b', 30, 40, 7), hit('c', 50, 60, 6), hit('d', 0, 5, 5)];
  const asked: string[] = [];
  const answers: Record<string, [number, number] | null> = { '/v/a.mp4': null, '/v/b.mp4': [31, 39], '/v/c.mp4': [55, 70] };
  const ranked = await groundHits(hits, 3, async (video, window) => {
    asked.push(`${video} ${window.start}-${window.end}`);
    return { span: answers[video] ?? null, format_ok: true };
  });
  assert.deepEqual(asked, ['/v/a.mp4 0-35', '/v/b.mp4 15-55', '/v/c.mp4 35-75']);
  assert.deepEqual(ranked.map((h) => h.text), ['b', 'c', 'a', 'novideo', 'd']);
  assert.deepEqual(ranked.map((h) => h.grounded), [true, true, false, false, false]);
  assert.deepEqual(ranked[0].span, [31, 39]);
  assert.equal(ranked[4].window, undefined, 'beyond k: not asked');
});

test('a cancelled grounding stops between hits', async () => {
  const controller = new AbortController();
  let calls = 0;
  await assert.rejects(groundHits([hit('a', 0, 1, 2), hit('b', 0, 1, 1)], 2, async () => {
    calls++;
    controller.abort();
    return { span: null, format_ok: false };
  }, controller.signal), /cancelled/);
  assert.equal(calls, 1);
});
