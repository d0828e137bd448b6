import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeActionsFor, DEFAULT_SETTINGS, editDistance, parseVscan, rankBySimilarity } from '../../server/src/language';
import { diagnose, URI, video } from '../helpers/language';

test('Link video candidates: the most similar names first', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  const ranked = rankBySimilarity('nowhere.mp4', ['a.mp4', 'kitchen.mp4', 'nowhere-2.mov', 'long.mp4', 'Nowhere.MP4']);
  assert.deepEqual(ranked.slice(0, 2), ['Nowhere.MP4', 'nowhere-2.mov']);
  assert.equal(ranked.length, 5);
  assert.equal(rankBySimilarity('x'.repeat(10_000), ['y'.repeat(10_000)]).length, 1, 'long names are bounded');
});

test('the missing-video quick fixes: ranked candidates, then Browse…', () => {
  const text = 'Video: kitchen-take2.mp4\nScene: x\nEvents:\n<0.0 - 1.0> a\n';
  const context = { video: { path: '/work/kitchen-take2.mp4', uri: 'file:///work/kitchen-take2.mp4', explicit: true, exists: false }, siblingVideos: ['a.mp4', 'kitchen.mp4', 'long.mp4'] };
  const diagnostics = diagnose(text, context).filter((d) => d.code === 'missing-video');
  const actions = codeActionsFor(parseVscan(text), URI, diagnostics, context, DEFAULT_SETTINGS);
  assert.equal(actions.length, 4);
  assert.equal(actions[0].title, 'Link video kitchen.mp4', 'the name most like kitchen-take2.mp4 comes first');
  assert.equal(actions[3].title, 'Link video… (browse)');
  assert.equal(actions[3].command?.command, 'videoScan.linkVideo');
});

test('a trim that would leave a sliver says so and is not preferred', () => {
  const text = 'Scene: x\nEvents:\n<1.0 - 5.0> long\n<1.2 - 3.0> starts just after\n';
  const diagnostics = diagnose(text).filter((d) => d.code === 'overlap');
  const [trim] = codeActionsFor(parseVscan(text), URI, diagnostics, { video: video(60) }, DEFAULT_SETTINGS);
  assert.match(trim.title, /leaves 0\.2 s of 4 s/);
  assert.equal(trim.isPreferred, false);
});

