/** Bad input and seeded fuzzing: the language service never throws, never hangs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  completionsAt,
  DEFAULT_SETTINGS,
  documentLinks,
  documentSymbols,
  foldingRanges,
  formatVscanText,
  hoverAt,
  parseVscan,
  validateVscan,
} from '../../server/src/language';
import { diagnose, URI, video } from '../helpers/language';

/** Runs every feature over a text; returns the formatted text. */
function exercise(text: string): string {
  const doc = parseVscan(text);
  validateVscan(doc, { video: video(30) }, DEFAULT_SETTINGS, URI);
  documentSymbols(doc);
  foldingRanges(doc);
  documentLinks(doc, URI, { video: video(30) });
  for (let line = 0; line < Math.min(doc.lines.length, 50); line++) {
    hoverAt(doc, { line, character: 3 }, { video: video(30) });
    completionsAt(doc, { line, character: 0 }, {}, DEFAULT_SETTINGS);
  }
  return formatVscanText(doc, DEFAULT_SETTINGS);
}

test('binary content does not crash and is reported', () => {
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
  const text = bytes.toString('utf8');
  exercise(text);
  assert.ok(diagnose(text).some((d) => d.code === 'unexpected-text' || d.code === 'malformed-event'));
});

test('a 1 MB line is handled in linear time', () => {
  const long = 'Scene: x\nEvents:\n<1.0 - 2.0> ' + 'a'.repeat(1 << 20) + '\n<' + '1'.repeat(1 << 20) + '\n';
  const d = diagnose(long);
  assert.deepEqual(d.map((x) => x.code), ['malformed-event']);
  assert.equal(d[0].range.start.line, 3);
  exercise(long);
  const manyMarkers = 'Scene: x Events: ' + '<1.0 - 2.0> a '.repeat(50_000);
  assert.equal(parseVscan(manyMarkers).events.length, 50_000);
});

test('CRLF, BOM, tabs and unicode', () => {
  assert.deepEqual(diagnose('\uFEFFScene: x\r\nEvents:\r\n\t<1.0\t-\t2.0>\tcafé 🎬 ünïcode\r\n'), []);
  const doc = parseVscan('Scene: 🎬🎬\nEvents:\n<1 - 2> 🎬 <x - 3>\n');
  // Columns are UTF-16 code units, as LSP counts them.
  assert.equal(doc.events[0].description, '🎬 <x - 3>');
  assert.deepEqual(diagnose('Scene: x\nEvents:\n🎬 <1 - 2>\n').map((d) => [d.code, d.range.end.character]), [['malformed-event', 10]]);
});

test('an unterminated < gets a precise diagnostic', () => {
  const d = diagnose('Scene: x\nEvents:\n<1.0 - 2.0 the end never comes\n');
  assert.deepEqual(d.map((x) => [x.code, x.range.start.character, x.range.end.character]), [['malformed-event', 0, 30]]);
  assert.match(d[0].message as string, /Unterminated/);
  assert.deepEqual(diagnose('Scene <1.0 - 2.0: x\n').map((x) => x.code), ['malformed-time']);
});

/** Mulberry32: a small seeded generator, so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  '# header comment', 'Video: clip.mp4', 'Title: a test', '', 'Scene <0.0 - 30.0>: A kitchen at night.',
  'The light is on.', '', 'Events: <0.0 - 2.5> opens the fridge', '<2.5 - 4.0> takes out eggs',
  '# between', '<1:02.5 - 1:03> cracks an egg', 'Scene: Another. Events: <5 - 6> x <6 - 7> y',
].join('\n');
const PIECES = ['<', '>', '-', ':', '.', '#', ' ', '\t', '\r\n', '\n', 'Scene', 'Events:', '1:02', '99.99', '-3', '–', '\u0000', '🎬', 'Video:', '<think>'];

test('fuzz: 3000 seeded mutations of a valid file never throw, and formatting is idempotent', () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const next = random(seed);
    let text = VALID;
    const mutations = 1 + Math.floor(next() * 6);
    for (let m = 0; m < mutations; m++) {
      const at = Math.floor(next() * (text.length + 1));
      const kind = next();
      if (kind < 0.4) text = text.slice(0, at) + PIECES[Math.floor(next() * PIECES.length)] + text.slice(at);
      else if (kind < 0.7) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 8));
      else if (kind < 0.85) text = text.slice(0, at) + text.slice(Math.floor(next() * text.length)).slice(0, 20) + text.slice(at);
      else text = text.slice(0, at) + String.fromCharCode(Math.floor(next() * 0xd7ff)) + text.slice(at);
    }
    let once: string;
    try {
      once = exercise(text);
    } catch (error) {
      assert.fail(`seed ${seed} threw on ${JSON.stringify(text)}: ${(error as Error).stack}`);
    }
    assert.equal(formatVscanText(parseVscan(once), DEFAULT_SETTINGS), once, `seed ${seed}: formatting not idempotent for ${JSON.stringify(text)}`);
  }
});
