import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVscan } from '../../server/src/language';
import { LibraryIndex } from '../../server/src/library/searchIndex';

const files: Record<string, string> = {
  '/lib/beach.vscan': 'Video: beach.mp4\n\nScene: A dog plays on a sunny beach.\nEvents:\n<0.0 - 2.0> the dog runs along the shore\n<2.0 - 4.5> the dog jumps into the water\n<4.5 - 8.0> a child builds a sandcastle\n',
  '/lib/kitchen.vscan': 'Video: kitchen.mp4\n\nScene: Someone cooks breakfast in a kitchen.\nEvents:\n<0.0 - 3.0> opens the fridge\n<3.0 - 6.0> cracks two eggs into a pan\n<6.0 - 9.0> jumping over the cat\n',
  '/lib/harbour.vscan': 'Video: harbour.mp4\n\nScene <0.0 - 60.0>: Boats leave a harbour at dawn; swimmers dive into the water from the pier.\nEvents:\n<10.0 - 12.0> a ferry sounds its horn\n',
};

function indexOf(texts = files): LibraryIndex {
  const index = LibraryIndex.empty();
  for (const [file, text] of Object.entries(texts)) index.update(file, 'v1', parseVscan(text), file.replace('.vscan', '.mp4'));
  return index;
}

test('an event whose words match ranks first, with its file, video, line and times', () => {
  const [best] = indexOf().search('dog jumps into water');
  assert.equal(best.vscan, '/lib/beach.vscan');
  assert.equal(best.video, '/lib/beach.mp4');
  assert.equal(best.kind, 'event');
  assert.equal(best.text, 'the dog jumps into the water');
  assert.deepEqual([best.line, best.start, best.end], [5, 2, 4.5]);
});

test('stemming: "jumped" finds "jumps" and "jumping"; "cooking" finds "cooks"', () => {
  const texts = indexOf().search('jumped').map((h) => h.text);
  assert.ok(texts.includes('the dog jumps into the water'));
  assert.ok(texts.includes('jumping over the cat'));
  assert.ok(indexOf().search('cooking').some((h) => h.kind === 'scene' && h.vscan === '/lib/kitchen.vscan'));
});

test('fuzzy terms forgive a typo in a longer word; a prefix matches a word being typed', () => {
  assert.equal(indexOf().search('sandcasle')[0]?.text, 'a child builds a sandcastle');
  assert.equal(indexOf().search('fri')[0]?.text, 'opens the fridge');
});

test('Scene paragraphs are searchable, with the block\'s window as their time; an event that matches as well ranks above', () => {
  const hits = indexOf().search('swimmers dive');
  assert.equal(hits[0].kind, 'scene');
  assert.deepEqual([hits[0].start, hits[0].end, hits[0].line], [0, 60, 2]);
  const water = indexOf().search('water');
  assert.equal(water[0].kind, 'event', 'a short event outranks a long Scene paragraph with the same word');
  assert.ok(water.some((h) => h.kind === 'scene'));
});

test('BM25: a rare word outweighs a common one', () => {
  const hits = indexOf().search('the ferry');
  assert.equal(hits[0].text, 'a ferry sounds its horn');
});

test('updating a file replaces its entries; removing it drops them; isCurrent follows the stamp', () => {
  const index = indexOf();
  assert.ok(index.isCurrent('/lib/beach.vscan', 'v1'));
  index.update('/lib/beach.vscan', 'v2', parseVscan('Scene: x\nEvents:\n<0 - 1> a horse gallops\n'));
  assert.ok(!index.isCurrent('/lib/beach.vscan', 'v1'));
  assert.equal(index.search('dog').length, 0);
  assert.equal(index.search('horse')[0].vscan, '/lib/beach.vscan');
  index.remove('/lib/beach.vscan');
  assert.equal(index.search('horse').length, 0);
  assert.equal(index.size.files, 2);
});

test('the index survives JSON and answers the same; another format version is rebuilt from empty', () => {
  const index = indexOf();
  const restored = LibraryIndex.fromJSON(JSON.stringify(index));
  assert.deepEqual(restored.search('dog water'), index.search('dog water'));
  assert.ok(restored.isCurrent('/lib/kitchen.vscan', 'v1'));
  assert.equal(LibraryIndex.fromJSON(JSON.stringify({ ...index.toJSON(), format: 0 })).size.files, 0);
  assert.equal(LibraryIndex.fromJSON('not json').size.files, 0);
});

test('events without times or descriptions are not indexed; limit bounds the answer', () => {
  const index = LibraryIndex.empty();
  index.update('/a.vscan', '1', parseVscan('Scene: \nEvents:\n<1 - > broken dog\n<2 - 3>\n' + Array.from({ length: 100 }, (_, i) => `<${i} - ${i + 1}> dog ${i}`).join('\n')));
  const hits = index.search('dog', 10);
  assert.equal(hits.length, 10);
  assert.ok(hits.every((h) => /^dog \d+$/.test(h.text)));
});
