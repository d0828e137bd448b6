import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  codeActionsFor,
  completionsAt,
  DEFAULT_SETTINGS,
  documentLinks,
  documentSymbols,
  foldingRanges,
  formatVscan,
  formatVscanText,
  hoverAt,
  parseVscan,
  SEEK_COMMAND,
} from '../../server/src/language';
import { applyEdits, diagnose, URI, video } from '../helpers/language';

const head = 'Scene: x\nEvents:\n';

/** Applies the quick fix with this title for the first diagnostic of `code`. */
function quickFix(text: string, code: string, title: RegExp, context = { video: video(60), siblingVideos: ['a.mp4'] }): string {
  const diagnostics = diagnose(text, context).filter((d) => d.code === code);
  assert.ok(diagnostics.length, `no ${code} diagnostic`);
  const actions = codeActionsFor(parseVscan(text), URI, diagnostics, context, DEFAULT_SETTINGS);
  const action = actions.find((a) => title.test(a.title));
  assert.ok(action, `no action ${title} among ${actions.map((a) => a.title).join(', ')}`);
  return applyEdits(text, action.edit!.changes![URI]);
}

test('quick fix: clamp to the duration (never past it)', () => {
  assert.equal(quickFix(`${head}<50.0 - 75.25> a\n`, 'out-of-range', /Clamp/, { video: video(59.996), siblingVideos: [] }),
    `${head}<50.0 - 59.99> a\n`);
});

test('quick fix: swap a reversed span', () => {
  assert.equal(quickFix(`${head}<5.0 - 4.0> a\n`, 'reversed-span', /Swap/), `${head}<4.0 - 5.0> a\n`);
});

test('quick fix: trim the earlier of two overlapping events', () => {
  assert.equal(quickFix(`${head}<1.0 - 2.5> a\n<2.0 - 3.0> b\n`, 'overlap', /Trim the event on line 3/), `${head}<1.0 - 2.0> a\n<2.0 - 3.0> b\n`);
});

test('quick fix: sort events keeps comments in place', () => {
  const text = `${head}<5.0 - 6.0> c\n# note\n<1.0 - 2.0> a\n<3.0 - 4.0> b\n`;
  const fixed = quickFix(text, 'unsorted', /Sort/);
  assert.equal(fixed, `${head}<1.0 - 2.0> a\n# note\n<3.0 - 4.0> b\n<5.0 - 6.0> c\n`);
  assert.deepEqual(diagnose(fixed).filter((d) => d.code === 'unsorted'), []);
});

test('quick fix: remove a duplicate (whole line, or the event within a line)', () => {
  assert.equal(quickFix(`${head}<1.0 - 2.0> a\n<1.0 - 2.0> a\n<3.0 - 4.0> b\n`, 'duplicate-event', /Remove/), `${head}<1.0 - 2.0> a\n<3.0 - 4.0> b\n`);
  assert.equal(quickFix('Scene: x Events: <1.0 - 2.0> a <1.0 - 2.0> a <3.0 - 4.0> b', 'duplicate-event', /Remove/),
    'Scene: x Events: <1.0 - 2.0> a <3.0 - 4.0> b');
});

test('quick fix: link a video', () => {
  const missing = { video: { path: '/w/gone.mp4', uri: 'file:///w/gone.mp4', explicit: true, exists: false }, siblingVideos: ['clip.mp4'] };
  assert.equal(quickFix(`Video: gone.mp4\n${head}`, 'missing-video', /Link video clip\.mp4/, missing), `Video: clip.mp4\n${head}`);
  assert.equal(quickFix(head, 'no-video', /Link video clip\.mp4/, { video: undefined, siblingVideos: ['clip.mp4'] } as never), `Video: clip.mp4\n${head}`);
});

test('formatting normalises spacing and times, one event per line, descriptions untouched', () => {
  const text = 'video:   clip.mp4  \nScene:  A  kitchen.   Events: <0 - 2.5>   opens  the   fridge <2.5-4> takes\n  <1:02.25 – 1:03>  cracks\n';
  assert.equal(formatVscanText(parseVscan(text), DEFAULT_SETTINGS),
    'video: clip.mp4\nScene: A  kitchen.\nEvents:\n<0.0 - 2.5> opens  the   fridge\n<2.5 - 4.0> takes\n<62.25 - 63.0> cracks\n');
  assert.equal(formatVscanText(parseVscan('Scene: x\nEvents:\n<62.5 - 3723.5> a\n'), { timeStyle: 'clock' }),
    'Scene: x\nEvents:\n<1:02.5 - 1:02:03.5> a\n');
});

test('formatting is idempotent, keeps CRLF and leaves unreadable lines alone', () => {
  const text = 'Scene: x\r\nEvents: <1 - 2> a <3 - 4> b\r\n<abc - 2>   bad   \r\n<5 - 6> c   \r\n';
  const once = formatVscanText(parseVscan(text), DEFAULT_SETTINGS);
  assert.equal(once, 'Scene: x\r\nEvents:\r\n<1.0 - 2.0> a\r\n<3.0 - 4.0> b\r\n<abc - 2>   bad\r\n<5.0 - 6.0> c\r\n');
  assert.deepEqual(formatVscan(parseVscan(once), DEFAULT_SETTINGS), []);
  assert.equal(applyEdits(text, formatVscan(parseVscan(text), DEFAULT_SETTINGS)), once);
});

test('outline: Scene blocks with their events', () => {
  const symbols = documentSymbols(parseVscan('Video: c.mp4\nScene <0 - 120>: first scene\nEvents:\n<12.0 - 15.5> a man waves\n<16 - 17>\n'));
  assert.deepEqual(symbols.map((s) => s.name), ['Video', 'Scene 0–120']);
  assert.equal(symbols[1].detail, 'first scene');
  assert.deepEqual(symbols[1].children?.map((c) => c.name), ['12.0–15.5 a man waves', '16–17']);
});

test('folding: blocks, events sections and comment runs', () => {
  const ranges = foldingRanges(parseVscan('# a\n# b\nScene: x\nmore\nEvents:\n<1 - 2> a\n<2 - 3> b\n'));
  assert.deepEqual(ranges.map((r) => [r.startLine, r.endLine, r.kind]), [[2, 6, undefined], [4, 6, undefined], [0, 1, 'comment']]);
});

test('hover on a time shows clock form, event duration and share of the video', () => {
  const doc = parseVscan(`${head}<62.5 - 65.5> a\n`);
  const hover = hoverAt(doc, { line: 2, character: 3 }, { video: video(120) });
  const value = (hover?.contents as { value: string }).value;
  assert.match(value, /\*\*1:02\.5\*\* · 62\.5 s/);
  assert.match(value, /Event duration 3 s — 2\.5% of the 120 s video/);
  assert.equal(hoverAt(doc, { line: 2, character: 14 }, {}), undefined);
});

test('completion offers a new event starting where the previous ended', () => {
  const doc = parseVscan(`${head}<1.0 - 2.5> a\n\n`);
  const [item] = completionsAt(doc, { line: 4, character: 0 }, {}, DEFAULT_SETTINGS);
  assert.equal((item.textEdit as { newText: string }).newText, '<2.5 - ${1:3.5}> ${0:description}');
  const header = completionsAt(parseVscan('\n'), { line: 0, character: 0 }, { siblingVideos: ['clip.mp4'] }, DEFAULT_SETTINGS);
  assert.deepEqual(header.map((i) => i.label), ['Video: clip.mp4', 'Scene:', 'Events:']);
});

test('document links seek the preview; the Video header opens the video', () => {
  const links = documentLinks(parseVscan(`Video: clip.mp4\n${head}<1.5 - 2.0> a\n`), URI, { video: video(10) });
  assert.equal(links.length, 3);
  assert.equal(links[0].target, 'file:///work/clip.mp4');
  const target = links[1].target!;
  assert.ok(target.startsWith(`command:${SEEK_COMMAND}?`));
  assert.deepEqual(JSON.parse(decodeURIComponent(target.slice(target.indexOf('?') + 1))), [URI, 1.5]);
});
