import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  carryProblems,
  applyTimelineDiff,
  diffTimeline,
  documentTimeFormat,
  parseVscan,
  type TimelineEditParams,
  timelineEdit,
  timelineEvents,
  timelineScenes,
} from '../../server/src/language';
import { applyEdits, diagnose, video } from '../helpers/language';

const KITCHEN = `Video: clip.mp4

Scene: a kitchen.
Events:
<0.0 - 2.0> the counter shows 0 and 1
<2.0 - 4.5> the counter shows 2 to 4
<4.5 - 7.0> the counter runs on to 6
`;

const LONG = `Video: clip.mp4

Scene <0.0 - 120.0>: The first two minutes.
Events:
<3.5 - 10.0> the pattern scrolls
<110.0 - 118.0> a moment inside the overlap

Scene <110.0 - 180.0>: The last minute.
Events:
<112.0 - 118.0> seen again
<150.0 - 160.0> the clip nears its end
`;

function edit(text: string, params: TimelineEditParams, durationSec = 10, style: 'seconds' | 'clock' = 'seconds'): string {
  const result = timelineEdit(parseVscan(text), { video: video(durationSec) }, style, params);
  assert.equal(result.error, undefined);
  return applyEdits(text, result.edits);
}

function model(text: string) {
  const doc = parseVscan(text);
  return timelineEvents(doc, diagnose(text, { video: video(60) }));
}

test('the timeline model: events with their worst diagnostic, Scene windows', () => {
  const text = `${KITCHEN}<6.0 - 5.0> reversed\n<5.5 - 8.0> overlaps\n`;
  const events = model(text);
  assert.deepEqual(events.map((e) => [e.start, e.end, e.line, e.problem]), [[0, 2, 4, 0], [2, 4.5, 5, 0], [4.5, 7, 6, 0], [6, 5, 7, 1], [5.5, 8, 8, 2]]);
  assert.deepEqual(timelineScenes(parseVscan(LONG)), [{ line: 2, start: 0, end: 120 }, { line: 7, start: 110, end: 180 }]);
});

test('a diff carries only what changed; lines below an inserted line shift without resending', () => {
  const before = model(KITCHEN);
  const typed = KITCHEN.replace('<2.0 - 4.5> the counter', '<2.0 - 4.5> the blue counter');
  const diff = diffTimeline(before, model(typed), 0);
  assert.equal(diff.start, 1);
  assert.equal(diff.deleteCount, 1);
  assert.deepEqual(diff.events.map((e) => e.label), ['the blue counter shows 2 to 4']);

  const inserted = KITCHEN.replace('Events:\n', 'Events:\n<0.5 - 1.0> new\n');
  const after = model(inserted);
  const shift = diffTimeline(before, after, 1);
  assert.deepEqual([shift.start, shift.deleteCount, shift.events.length, shift.lineDelta], [0, 0, 1, 1]);
  assert.deepEqual(applyTimelineDiff(model(KITCHEN), shift), after);
});

test('random edits: applying each diff to the previous model gives the new one', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let lines = KITCHEN.split('\n');
  let current = model(KITCHEN);
  for (let i = 0; i < 300; i++) {
    const next = [...lines];
    const at = 4 + Math.floor(random() * (next.length - 4));
    const roll = random();
    if (roll < 0.4) next.splice(at, 0, `<${(random() * 9).toFixed(1)} - 9.5> e${i}`);
    else if (roll < 0.7 && next.length > 6) next.splice(at, 1);
    else next[at] = `<${(random() * 9).toFixed(1)} - 9.9> changed ${i}`;
    const text = next.join('\n');
    const target = model(text);
    const diff = diffTimeline(current, target, next.length - lines.length);
    current = applyTimelineDiff(current, structuredClone(diff));
    assert.deepEqual(current, target, `step ${i}`);
    lines = next;
  }
});

test('the document time format: its majority style and precision', () => {
  assert.deepEqual(documentTimeFormat(parseVscan(KITCHEN), 'clock'), { style: 'seconds', fractionDigits: 1 });
  assert.deepEqual(documentTimeFormat(parseVscan('Scene: x\nEvents:\n<0:01.25 - 0:02.50> a\n<0:03.00 - 0:04.00> b\n'), 'seconds'), { style: 'clock', fractionDigits: 2 });
  assert.deepEqual(documentTimeFormat(parseVscan('Scene: x\nEvents:\n'), 'clock'), { style: 'clock', fractionDigits: 1 });
});

test('Set Event End writes the event\'s own precision and style, clamped to the video', () => {
  assert.match(edit(KITCHEN, { kind: 'setEnd', line: 5, character: 3, seconds: 3.3049 }), /<2\.0 - 3\.3> the counter shows 2/);
  assert.match(edit(KITCHEN, { kind: 'setStart', line: 6, character: 3, seconds: 14 }), /<10\.0 - 7\.0> the counter runs/);
  const clock = 'Scene: x\nEvents:\n<0:01.0 - 0:02.0> a\n';
  assert.match(edit(clock, { kind: 'setEnd', line: 2, character: 3, seconds: 5.26 }), /<0:01\.0 - 0:05\.3> a/);
});

test('Insert Event at Playhead: in time order, the document\'s style, never past the video\'s end', () => {
  const middle = edit(KITCHEN, { kind: 'insert', start: 3.14 });
  assert.deepEqual(middle.split('\n').slice(4, 8), ['<0.0 - 2.0> the counter shows 0 and 1', '<2.0 - 4.5> the counter shows 2 to 4', '<3.1 - 4.1> ', '<4.5 - 7.0> the counter runs on to 6']);
  const atEnd = edit(KITCHEN, { kind: 'insert', start: 9.71 });
  assert.match(atEnd, /<9\.7 - 10\.0> $/m, 'the end is clamped to the 10 s video');
  const pastEnd = edit(KITCHEN, { kind: 'insert', start: 10 });
  assert.match(pastEnd, /<9\.9 - 10\.0> $/m, 'at the very end, a span of one step');
  const clock = edit('Scene: x\nEvents:\n', { kind: 'insert', start: 65.25 }, 120, 'clock');
  assert.match(clock, /^<1:05\.3 - 1:06\.3> $/m, 'an empty document follows the timeStyle setting');
  const first = edit(KITCHEN.replace('<0.0 - 2.0>', '<1.0 - 2.0>'), { kind: 'insert', start: 0, end: 0.5, description: 'before all' });
  assert.equal(first.split('\n')[4], '<0.0 - 0.5> before all');
  const same = edit(KITCHEN, { kind: 'insert', start: 2, end: 3, description: 'same start' });
  assert.equal(same.split('\n')[6], '<2.0 - 3.0> same start', 'after the events that start at the same time');
});

test('Insert as Event goes into the Scene window that holds its time', () => {
  const out = edit(LONG, { kind: 'insert', start: 150.5, end: 152, description: 'found it' }, 180).split('\n');
  assert.equal(out[out.indexOf('<150.0 - 160.0> the clip nears its end') + 1], '<150.5 - 152.0> found it');
  const early = edit(LONG, { kind: 'insert', start: 20, end: 25, description: 'early' }, 180).split('\n');
  assert.equal(early[early.indexOf('<3.5 - 10.0> the pattern scrolls') + 1], '<20.0 - 25.0> early');
});

test('a dragged bar rewrites its times; a stale drag is refused with a reason', () => {
  const moved = edit(KITCHEN, { kind: 'retime', line: 5, from: { start: 2, end: 4.5 }, start: 2.5, end: 5.04 });
  assert.match(moved, /<2\.5 - 5\.0> the counter shows 2/);
  const stale = timelineEdit(parseVscan(KITCHEN), { video: video(10) }, 'seconds', { kind: 'retime', line: 3, from: { start: 1, end: 2 }, start: 1, end: 2 });
  assert.match(stale.error ?? '', /line 4/);
  const bad = timelineEdit(parseVscan(KITCHEN), { video: video(10) }, 'seconds', { kind: 'insert', start: Number.NaN });
  assert.ok(bad.error);
});

test('a parse without validation keeps the marks of the events that did not change', () => {
  const ev = (start: number, line: number, label: string, problem: 0 | 1 | 2 = 0) => ({ start, end: start + 1, line, label, problem });
  const previous = [ev(0, 3, 'a', 1), ev(1, 4, 'b'), ev(2, 5, 'c', 2), ev(3, 6, 'd', 1)];
  // A line inserted before c: a and b unchanged, c and d shifted by one line, one new event.
  const next = carryProblems(previous, [ev(0, 3, 'a'), ev(1, 4, 'b'), ev(1.5, 5, 'new'), ev(2, 6, 'c'), ev(3, 7, 'd')], 1);
  assert.deepEqual(next.map((e) => e.problem), [1, 0, 0, 2, 1]);
  // A changed label loses its mark (the next validation decides).
  assert.deepEqual(carryProblems(previous, [ev(0, 3, 'a!'), ev(1, 4, 'b'), ev(2, 5, 'c'), ev(3, 6, 'd')], 0).map((e) => e.problem), [0, 0, 2, 1]);
});
