import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DiagnosticSeverity } from 'vscode-languageserver-types';
import { codes, diagnose, URI, video } from '../helpers/language';

const head = 'Scene: x\nEvents:\n';

test('a clean file has no diagnostics', () => {
  assert.deepEqual(diagnose(`${head}<0.0 - 1.0> a\n<1.0 - 2.0> b\n<2.5 - 59.0> c\n`), []);
});

test('negative, reversed and empty spans', () => {
  const d = diagnose(`${head}<-1.0 - 2.0> a\n<5.0 - 4.0> b\n<6.0 - 6.0> c\n`);
  assert.deepEqual(codes(d), ['negative-time@3:1', 'reversed-span@4:0', 'empty-span@5:0']);
  assert.equal(d[0].severity, DiagnosticSeverity.Error);
  assert.equal(d[2].severity, DiagnosticSeverity.Warning);
});

test('out-of-range uses the video duration plus the tolerance', () => {
  assert.deepEqual(codes(diagnose(`${head}<59.0 - 60.1> a\n`, { video: video(60) })), []);
  assert.deepEqual(codes(diagnose(`${head}<59.0 - 60.2> a\n`, { video: video(60) })), ['out-of-range@3:8']);
  assert.deepEqual(codes(diagnose(`${head}<59.0 - 60.2> a\n`, { video: video(60) }, { rangeTolerance: 0.5 })), []);
  assert.deepEqual(codes(diagnose(`${head}<61 - 1:02> a\n`, { video: video(60) })), ['out-of-range@3:1', 'out-of-range@3:6']);
});

test('range checks are skipped while the duration is unknown', () => {
  const pending = { ...video(60), durationSec: undefined };
  assert.deepEqual(codes(diagnose(`${head}<100 - 200> a\n`, { video: pending })), []);
});

test('overlap: touching spans do not overlap; related information points at the other event', () => {
  assert.deepEqual(codes(diagnose(`${head}<1.0 - 2.0> a\n<2.0 - 3.0> b\n`)), []);
  const d = diagnose(`${head}<1.0 - 2.5> a\n<2.0 - 3.0> b\n`);
  assert.deepEqual(codes(d), ['overlap@4:0']);
  assert.equal(d[0].severity, DiagnosticSeverity.Warning);
  assert.deepEqual(d[0].relatedInformation?.[0].location, { uri: URI, range: { start: { line: 2, character: 0 }, end: { line: 2, character: 11 } } });
  assert.match(d[0].message as string, /line 3 by 0\.5 s/);
});

test('overlap tolerance and severity are configurable', () => {
  const text = `${head}<1.0 - 2.5> a\n<2.0 - 3.0> b\n`;
  assert.deepEqual(codes(diagnose(text, undefined, { overlapTolerance: 0.5 })), []);
  assert.equal(diagnose(text, undefined, { severity: { overlap: 'error' } })[0].severity, DiagnosticSeverity.Error);
  assert.deepEqual(diagnose(text, undefined, { severity: { overlap: 'off' } }), []);
});

test('an event inside a long one overlaps it, even when far apart in the file', () => {
  const d = diagnose(`${head}<0.0 - 50.0> long\n<1.0 - 2.0> a\n<3.0 - 4.0> b\n`);
  assert.deepEqual(codes(d), ['overlap@4:0', 'overlap@5:0']);
});

test('unsorted, duplicate and empty description', () => {
  const d = diagnose(`${head}<5.0 - 6.0> a\n<1.0 - 2.0> b\n<5.0 - 6.0> a\n<7.0 - 8.0>\n`);
  assert.deepEqual(codes(d), ['unsorted@4:0', 'duplicate-event@5:0', 'empty-description@6:0']);
  assert.equal(d[0].severity, DiagnosticSeverity.Information);
});

test('same span with different text is an overlap, not a duplicate', () => {
  assert.deepEqual(codes(diagnose(`${head}<5.0 - 6.0> a\n<5.0 - 6.0> b\n`)), ['overlap@4:0']);
});

test('video link diagnostics', () => {
  const missing = { path: '/work/gone.mp4', uri: 'file:///work/gone.mp4', explicit: true, exists: false };
  assert.deepEqual(codes(diagnose(`Video: gone.mp4\n${head}`, { video: missing })), ['missing-video@1:7']);
  assert.deepEqual(codes(diagnose(head, {})), ['no-video@1:0']);
  const unreadable = { ...video(60), durationSec: undefined, probeError: 'not a readable video' };
  const d = diagnose(`Video: clip.mp4\n${head}<100 - 200> a\n`, { video: unreadable });
  assert.deepEqual(codes(d), ['unreadable-video@1:7']);
});

test('an untrusted workspace skips range checks with one information diagnostic saying why', () => {
  const untrusted = { ...video(60), durationSec: undefined, untrusted: true };
  const d = diagnose(`Video: clip.mp4\n${head}<100 - 200> a\n<300 - 400> b\n`, { video: untrusted });
  assert.deepEqual(codes(d), ['untrusted-workspace@1:7']);
  assert.equal(d[0].severity, DiagnosticSeverity.Information);
  assert.match(d[0].message as string, /Range checks are skipped: this workspace is not trusted/);
  // Found beside the file (no header): on the first line.
  assert.deepEqual(codes(diagnose(`${head}<100 - 200> a\n`, { video: { ...untrusted, explicit: false } })), ['untrusted-workspace@1:0']);
});

test('a Scene window is checked like a span', () => {
  assert.deepEqual(codes(diagnose('Scene <10.0 - 5.0>: x\n')), ['reversed-span@1:6']);
  assert.deepEqual(codes(diagnose('Scene <0.0 - 90.0>: x\n', { video: video(60) })), ['out-of-range@1:13']);
});

test('diagnostics come in reading order', () => {
  const d = diagnose(`${head}<0.0 - 5.0> a\n<1.0 - 2.0> b\n<9.0 - 8.0> c\n<abc - 2> d\n`);
  const positions = d.map((x) => x.range.start.line * 1e6 + x.range.start.character);
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
});
