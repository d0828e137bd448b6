import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineKind, parseVscan } from '../../server/src/language';

test('reads headers, Scene paragraphs and events', () => {
  const doc = parseVscan([
    '# made by hand',
    'Video: clip.mp4',
    'Model: video-scan',
    '',
    'Scene: A kitchen.',
    'Someone cooks.',
    '',
    'Events:',
    '<0.0 - 2.5> opens the fridge',
    '  <2.5-4> takes out eggs  ',
    '# a comment between events',
    '<1:02.5 - 1:03> cracks an egg',
  ].join('\n'));
  assert.deepEqual(doc.headers.map((h) => [h.key, h.value]), [['Video', 'clip.mp4'], ['Model', 'video-scan']]);
  assert.equal(doc.blocks.length, 1);
  assert.equal(doc.blocks[0].text, 'A kitchen. Someone cooks.');
  assert.deepEqual(doc.events.map((e) => [e.start.value, e.end.value, e.description]), [
    [0, 2.5, 'opens the fridge'],
    [2.5, 4, 'takes out eggs'],
    [62.5, 63, 'cracks an egg'],
  ]);
  assert.deepEqual(doc.problems, []);
  const e = doc.events[1];
  assert.deepEqual(e.start.range, { start: { line: 9, character: 3 }, end: { line: 9, character: 6 } });
  assert.deepEqual(e.end.range, { start: { line: 9, character: 7 }, end: { line: 9, character: 8 } });
});

test('raw model output pasted on one line is valid', () => {
  const doc = parseVscan('Scene: A dog runs. Events: <0.0 - 1.5> the dog starts <1.5 - 3.0> the dog stops');
  assert.deepEqual(doc.problems, []);
  assert.equal(doc.blocks[0].text, 'A dog runs.');
  assert.deepEqual(doc.events.map((e) => [e.start.value, e.end.value, e.description]), [
    [0, 1.5, 'the dog starts'],
    [1.5, 3, 'the dog stops'],
  ]);
});

test('raw model output with a think block and the first event on the Events line', () => {
  const doc = parseVscan('<think>\n</think>\nScene: A street.\nEvents: <0.0 - 1.0> a car passes\n<1.0 - 2.0> a bus passes\n');
  assert.deepEqual(doc.problems, []);
  assert.equal(doc.events.length, 2);
  assert.equal(doc.lineKinds[0], LineKind.Think);
});

test('several windowed Scene blocks', () => {
  const doc = parseVscan('Scene <0.0 - 120.0>: first\nEvents:\n<1 - 2> a\n\nScene <120.0 - 240.0>: second\nEvents:\n<121 - 122> b\n');
  assert.equal(doc.blocks.length, 2);
  assert.deepEqual(doc.blocks.map((b) => [b.window?.start.value, b.window?.end.value, b.events.length]), [[0, 120, 1], [120, 240, 1]]);
  assert.equal(doc.events[1].block, doc.blocks[1]);
});

test('a clock-form window', () => {
  const doc = parseVscan('Scene <1:00.0 - 2:00.0>: w\n');
  assert.deepEqual([doc.blocks[0].window?.start.value, doc.blocks[0].window?.end.value], [60, 120]);
  assert.deepEqual(doc.problems, []);
});

test('headers are only read before the first Scene; "events:" in prose is not a section', () => {
  const doc = parseVscan('Scene: The events: of the day.\nVideo: not-a-header\n');
  assert.deepEqual(doc.headers, []);
  assert.equal(doc.blocks[0].text, 'The events: of the day. Video: not-a-header');
  assert.deepEqual(doc.problems, []);
});

test('reports malformed lines precisely', () => {
  const doc = parseVscan('Scene: x\nEvents:\nno marker\n<1.0 - 2.0\n<abc - 2> bad\n<1.0 2.0> no dash\n');
  assert.deepEqual(doc.problems.map((p) => [p.code, p.range.start.line, p.range.start.character, p.range.end.character]), [
    ['malformed-event', 2, 0, 9],
    ['malformed-event', 3, 0, 10],
    ['malformed-time', 4, 1, 4],
    ['malformed-event', 5, 0, 9],
  ]);
});

test('text that is neither header nor Scene before the first block is unexpected', () => {
  const doc = parseVscan('hello world\nScene: x\n');
  assert.deepEqual(doc.problems.map((p) => p.code), ['unexpected-text']);
});

test('keeps CRLF as the document end of line', () => {
  const doc = parseVscan('Scene: x\r\nEvents:\r\n<1 - 2> a\r\n');
  assert.equal(doc.eol, '\r\n');
  assert.equal(doc.events[0].description, 'a');
});
