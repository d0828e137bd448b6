import assert from 'node:assert/strict';
import { test } from 'node:test';
import SrtParser from 'srt-parser-2';
// The W3C's WebVTT parser and validator (we did not write it): what a browser would make of our files.
import { type CueNode, WebVTTParser } from 'webvtt-parser';
import entities from 'webvtt-parser/html-entities.json';
import { parseVscan } from '../../server/src/language';
import { type Annotation, annotationOf, annotationToVscan, exportAnnotations, EXPORT_FORMATS, importAnnotations, subtitleTime } from '../../server/src/library/formats';

const SOURCE = `Video: dive.mp4

Scene: Swimmers at a pier; one dives in & comes back up.
Events:
<0.0 - 2.5> a swimmer walks to the edge of the pier
<2.5 - 3.25> dives in -> splash <big>
<3.25 - 1:05.125> swims back & climbs out "cold"
<1:05.125 - 1:01:01.5> the end, at last
`;

const annotation = annotationOf(parseVscan(SOURCE), 'dive.mp4');

test('a .vscan\'s annotation: every event with its times in seconds, the Scene paragraph, the video from the header', () => {
  assert.equal(annotation.video, 'dive.mp4');
  assert.equal(annotation.scene, 'Swimmers at a pier; one dives in & comes back up.');
  assert.deepEqual(annotation.events.map((e) => [e.start, e.end]), [[0, 2.5], [2.5, 3.25], [3.25, 65.125], [65.125, 3661.5]]);
  assert.equal(annotation.events[1].description, 'dives in -> splash <big>');
});

test('subtitle times: hours, minutes, seconds and milliseconds', () => {
  assert.equal(subtitleTime(3661.5, '.'), '01:01:01.500');
  assert.equal(subtitleTime(65.125, ','), '00:01:05,125');
  assert.equal(subtitleTime(0.0004, '.'), '00:00:00.000');
});

for (const format of EXPORT_FORMATS) {
  test(`round trip through ${format}: import ∘ export is the identity on the events`, () => {
    const text = exportAnnotations([annotation], format);
    const [back] = importAnnotations(`dive.${format}`, text, 'dive.mp4');
    assert.deepEqual(back.events, annotation.events);
    assert.equal(back.video, 'dive.mp4');
    // And the .vscan written from the import parses back to the same events.
    const again = annotationOf(parseVscan(annotationToVscan(back, `dive.${format}`)), 'x');
    assert.deepEqual(again.events, annotation.events);
    if (format === 'json') assert.equal(again.scene, annotation.scene, 'the dense-captioning JSON carries the Scene too');
  });
}

test('WebVTT output is valid for the W3C parser, with the same cues (times and decoded text)', () => {
  const vtt = exportAnnotations([annotation], 'vtt');
  const tree = new WebVTTParser(entities).parse(vtt, 'subtitles');
  assert.deepEqual(tree.errors, []);
  assert.deepEqual(tree.cues.map((c) => [c.startTime, c.endTime]), annotation.events.map((e) => [e.start, e.end]));
  const text = (node: CueNode): string => node.type === 'text' ? node.value ?? '' : (node.children ?? []).map(text).join('');
  assert.deepEqual(tree.cues.map((c) => text(c.tree)), annotation.events.map((e) => e.description));
});

test('SRT output reads back with srt-parser-2: ids 1…n, times, text', () => {
  const cues = new SrtParser().fromSrt(exportAnnotations([annotation], 'srt'));
  assert.deepEqual(cues.map((c) => c.id), ['1', '2', '3', '4']);
  assert.deepEqual(cues.map((c) => [c.startSeconds, c.endSeconds]), annotation.events.map((e) => [e.start, e.end]));
  assert.deepEqual(cues.map((c) => c.text), annotation.events.map((e) => e.description));
});

test('dense-captioning JSON has ActivityNet\'s layout; JSON Lines one record per event; several videos in one file', () => {
  const other: Annotation = { video: 'b.mp4', duration: 12, events: [{ start: 1, end: 2, description: 'b happens' }] };
  const json = JSON.parse(exportAnnotations([annotation, other], 'json'));
  assert.deepEqual(Object.keys(json), ['dive.mp4', 'b.mp4']);
  assert.deepEqual(json['b.mp4'], { duration: 12, timestamps: [[1, 2]], sentences: ['b happens'] });
  assert.equal(json['dive.mp4'].duration, 3661.5, 'without a probe, the duration is the last event\'s end');
  const lines = exportAnnotations([annotation, other], 'jsonl').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5);
  assert.deepEqual(lines[4], { video: 'b.mp4', start: 1, end: 2, description: 'b happens' });
  assert.deepEqual(importAnnotations('x.jsonl', exportAnnotations([annotation, other], 'jsonl'), 'x.mp4').map((a) => a.video), ['dive.mp4', 'b.mp4']);
  assert.throws(() => exportAnnotations([annotation, other], 'vtt'), /one video/);
});

test('imported subtitles: tags removed, entities decoded, lines joined, empty cues dropped', () => {
  const srt = '1\n00:00:01,000 --> 00:00:02,500\n<i>A dog</i>\nbarks\n\n2\n00:00:03,000 --> 00:00:04,000\n\n';
  assert.deepEqual(importAnnotations('a.srt', srt, 'a.mp4')[0].events, [{ start: 1, end: 2.5, description: 'A dog barks' }]);
  const vtt = 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann>fish &amp; chips &lt;3</v>\n';
  assert.deepEqual(importAnnotations('a.vtt', vtt, 'a.mp4')[0].events, [{ start: 1, end: 2, description: 'fish & chips <3' }]);
});

test('bad input: one line naming the file and what is wrong', () => {
  assert.throws(() => importAnnotations('bad.json', '{"v": {"timestamps": [[1, 2]], "sentences": []}}', 'v'), /^AnnotationFormatError: bad\.json: "v" has 1 timestamps but 0 sentences$/);
  assert.throws(() => importAnnotations('bad.json', '[1]', 'v'), /bad\.json: expected an object/);
  assert.throws(() => importAnnotations('bad.json', '{', 'v'), /bad\.json: not JSON/);
  assert.throws(() => importAnnotations('bad.jsonl', '{"start": "1", "end": 2, "description": "x"}\n', 'v'), /bad\.jsonl: line 1: times must be numbers/);
  assert.throws(() => importAnnotations('bad.vtt', 'hello', 'v'), /bad\.vtt: a WebVTT file starts with "WEBVTT"/);
  assert.throws(() => importAnnotations('bad.srt', 'just some words\n', 'v'), /bad\.srt: no SRT cue could be read/);
});
