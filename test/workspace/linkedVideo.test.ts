import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseVscan } from '../../server/src/language';
import { linkedVideoPath } from '../../server/src/workspace/videoContext';

test('the Video header wins (relative to the document, or absolute); else a same-named sibling', () => {
  const doc = (text: string) => parseVscan(text);
  assert.deepEqual(linkedVideoPath(doc('Video: clips/a.mp4\nScene: x\n'), '/w/notes.vscan', ['notes.mp4']), { path: '/w/clips/a.mp4', explicit: true });
  assert.deepEqual(linkedVideoPath(doc('Video: /v/a.mov\n'), '/w/notes.vscan', []), { path: '/v/a.mov', explicit: true });
  assert.deepEqual(linkedVideoPath(doc('Scene: x\n'), '/w/notes.vscan', ['a.mp4', 'notes.MKV']), { path: '/w/notes.MKV', explicit: false });
  assert.equal(linkedVideoPath(doc('Scene: x\n'), '/w/notes.vscan', ['a.mp4']), undefined);
  // A sibling is found however many videos the folder holds.
  const many = Array.from({ length: 80 }, (_, i) => `clip${String(i).padStart(2, '0')}.mp4`);
  assert.deepEqual(linkedVideoPath(doc('Scene: x\n'), '/w/clip79.vscan', many), { path: '/w/clip79.mp4', explicit: false });
});
