/**
 * Bounded work per request (issue 11): quick fixes are linear in the document, the fix-all
 * sorts every block in one pass, and diagnostics and links are capped per document.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  capDiagnostics,
  codeActionsFor,
  DEFAULT_SETTINGS,
  documentLinks,
  FIX_ALL_KIND,
  LIMIT_CODE,
  MAX_DIAGNOSTICS,
  MAX_DOCUMENT_LINKS,
  MAX_QUICK_FIX_DIAGNOSTICS,
  parseVscan,
} from '../../server/src/language';
import { applyEdits, diagnose, URI, video } from '../helpers/language';

/** `count` events in reverse start order in one block: every event but the first is `unsorted`. */
function reversedBlock(count: number): string {
  const lines = ['Scene: x', 'Events:'];
  for (let i = count; i > 0; i--) lines.push(`<${i}.0 - ${i}.5> event ${i}`);
  return lines.join('\n') + '\n';
}

const context = { video: video(1e6) };

test('unsorted: one sort per block however many of its events are selected, so the answer grows linearly', () => {
  const sizes = [500, 2000];
  const bytes = sizes.map((n) => {
    const text = reversedBlock(n);
    const diagnostics = diagnose(text, context).filter((d) => d.code === 'unsorted');
    assert.equal(diagnostics.length, n - 1);
    const actions = codeActionsFor(parseVscan(text), URI, diagnostics, context, DEFAULT_SETTINGS);
    assert.equal(actions.filter((a) => /Sort/.test(a.title)).length, 1);
    return JSON.stringify(actions).length;
  });
  // Before: one whole-block sort per diagnostic, so 4× the events gave 16× the bytes (2,000 events: 477 MB).
  assert.ok(bytes[1] / bytes[0] < 4.5, `answer grew ${(bytes[1] / bytes[0]).toFixed(1)}× for 4× the events`);
});

test('unsorted: the 20,000-event fix-all answers with one action whose edits sort the block, smaller than the file', () => {
  const text = reversedBlock(20_000);
  const diagnostics = diagnose(text, context).filter((d) => d.code === 'unsorted');
  const actions = codeActionsFor(parseVscan(text), URI, diagnostics, context, DEFAULT_SETTINGS, [FIX_ALL_KIND]);
  assert.equal(actions.length, 1);
  assert.equal(actions[0].kind, FIX_ALL_KIND);
  assert.ok(JSON.stringify(actions).length < 4 * text.length, 'the answer is of the order of the file');
  const fixed = applyEdits(text, actions[0].edit!.changes![URI]);
  assert.deepEqual(diagnose(fixed, context).filter((d) => d.code === 'unsorted'), []);
});

test('fix-all: sorts every unsorted block, leaves sorted ones alone, and is offered for source.fixAll too', () => {
  const text = 'Scene <0 - 10>: a\nEvents:\n<2.0 - 3.0> b\n<1.0 - 2.0> a\n\nScene <10 - 20>: b\nEvents:\n<11.0 - 12.0> c\n\nScene <20 - 30>: c\nEvents:\n<25.0 - 26.0> e\n# keep\n<21.0 - 22.0> d\n';
  const [action] = codeActionsFor(parseVscan(text), URI, [], context, DEFAULT_SETTINGS, ['source.fixAll']);
  assert.equal(action.kind, FIX_ALL_KIND);
  assert.equal(applyEdits(text, action.edit!.changes![URI]),
    'Scene <0 - 10>: a\nEvents:\n<1.0 - 2.0> a\n<2.0 - 3.0> b\n\nScene <10 - 20>: b\nEvents:\n<11.0 - 12.0> c\n\nScene <20 - 30>: c\nEvents:\n<21.0 - 22.0> d\n# keep\n<25.0 - 26.0> e\n');
  // Not computed for the light bulb (no `only`), nor when only quick fixes are asked for.
  assert.equal(codeActionsFor(parseVscan(text), URI, [], context, DEFAULT_SETTINGS).length, 0);
  assert.equal(codeActionsFor(parseVscan(text), URI, [], context, DEFAULT_SETTINGS, ['quickfix']).length, 0);
  // A sorted document has nothing to fix.
  assert.equal(codeActionsFor(parseVscan('Scene: x\nEvents:\n<1 - 2> a\n'), URI, [], context, DEFAULT_SETTINGS, [FIX_ALL_KIND]).length, 0);
});

test('fix-all: swaps reversed spans and removes exact duplicates within a block too, then sorts; comments stay; what it did is its title', () => {
  const text = [
    'Scene <0 - 10>: a', 'Events:',
    '<5.0 - 3.0> reversed',
    '<1.0 - 2.0> a',
    '# a comment stays on its line',
    '<1.0 - 2.0> a',
    '<1.0 - 2.0> a, but said otherwise',
    '<9.0 - 10.0> at the seam',
    '',
    'Scene <9 - 20>: b', 'Events:',
    '<9.0 - 10.0> at the seam',
    '<12.0 - 11.0> also reversed',
    '',
  ].join('\n');
  const [action] = codeActionsFor(parseVscan(text), URI, [], context, DEFAULT_SETTINGS, [FIX_ALL_KIND]);
  assert.equal(action.title, 'Fix all: swap 2 reversed spans, remove 1 duplicate, sort 1 block by start time');
  const fixed = applyEdits(text, action.edit!.changes![URI]);
  assert.equal(fixed, [
    'Scene <0 - 10>: a', 'Events:',
    '<1.0 - 2.0> a',
    '<1.0 - 2.0> a, but said otherwise',
    '# a comment stays on its line',
    '<3.0 - 5.0> reversed',
    '<9.0 - 10.0> at the seam',
    '',
    'Scene <9 - 20>: b', 'Events:',
    '<9.0 - 10.0> at the seam',
    '<11.0 - 12.0> also reversed',
    '',
  ].join('\n'), 'a duplicate in another block (a window seen twice) is not removed unattended');
  const left = diagnose(fixed, context).map((d) => d.code);
  assert.deepEqual(left.filter((c) => c !== 'overlap'), ['duplicate-event'], 'only the duplicate across windows is left (overlaps are the user\'s call)');
  // Fixed is fixed: nothing more to do.
  assert.equal(codeActionsFor(parseVscan(fixed), URI, [], context, DEFAULT_SETTINGS, [FIX_ALL_KIND]).length, 0);
});

test('fix-all: a block with several events on one line is only sorted, a line at a time', () => {
  const text = 'Scene: x\nEvents:\n<3 - 4> c <5 - 6> d\n<1 - 2> a\n<1 - 2> a\n';
  const [action] = codeActionsFor(parseVscan(text), URI, [], context, DEFAULT_SETTINGS, [FIX_ALL_KIND]);
  assert.equal(action.title, 'Fix all: sort 1 block by start time');
  assert.equal(applyEdits(text, action.edit!.changes![URI]), 'Scene: x\nEvents:\n<1 - 2> a\n<1 - 2> a\n<3 - 4> c <5 - 6> d\n');
});

test('quick fixes: at most MAX_QUICK_FIX_DIAGNOSTICS diagnostics are looked at per request', () => {
  const lines = ['Scene: x', 'Events:'];
  for (let i = 0; i < MAX_QUICK_FIX_DIAGNOSTICS + 500; i++) lines.push(`<${i + 1}.0 - ${i}.0> reversed ${i}`);
  const text = lines.join('\n');
  const diagnostics = diagnose(text, context).filter((d) => d.code === 'reversed-span');
  assert.equal(diagnostics.length, MAX_QUICK_FIX_DIAGNOSTICS + 500);
  const actions = codeActionsFor(parseVscan(text), URI, diagnostics, context, DEFAULT_SETTINGS);
  assert.equal(actions.length, MAX_QUICK_FIX_DIAGNOSTICS);
  assert.equal(applyEdits(text, actions.at(-1)!.edit!.changes![URI]).split('\n')[MAX_QUICK_FIX_DIAGNOSTICS + 1],
    `<${MAX_QUICK_FIX_DIAGNOSTICS - 1}.0 - ${MAX_QUICK_FIX_DIAGNOSTICS}.0> reversed ${MAX_QUICK_FIX_DIAGNOSTICS - 1}`);
});

test('diagnostics are capped per document with one summary saying how many are hidden', () => {
  const lines = ['Scene: x', 'Events:'];
  for (let i = 0; i < MAX_DIAGNOSTICS + 250; i++) lines.push(`<${i}.0 - ${i}.0> empty ${i}`);
  const all = diagnose(lines.join('\n'), context);
  assert.equal(all.length, MAX_DIAGNOSTICS + 250);
  const capped = capDiagnostics(all);
  assert.equal(capped.length, MAX_DIAGNOSTICS + 1);
  const summary = capped.at(-1)!;
  assert.equal(summary.code, LIMIT_CODE);
  assert.match(String(summary.message), /^250 more problems are not shown .*vscan check/);
  assert.equal(capDiagnostics(all.slice(0, 10)).length, 10);
});

test('document links are capped per document', () => {
  const lines = ['Scene: x', 'Events:'];
  for (let i = 0; i < MAX_DOCUMENT_LINKS; i++) lines.push(`<${i}.0 - ${i}.5> e`);
  const links = documentLinks(parseVscan(lines.join('\n')), URI, context);
  assert.equal(links.length, MAX_DOCUMENT_LINKS);
});
