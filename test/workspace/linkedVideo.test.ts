import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseVscan } from '../../server/src/language';
import { ProbeCache } from '../../server/src/video/probe';
import { linkedVideoPath, resolveDocumentContext } from '../../server/src/workspace/videoContext';
import { tempDir } from '../helpers/videos';

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

test('the folder listing behind sibling videos is reused until the folder changes', async () => {
  const dir = await tempDir('vscan-siblings-');
  const documentPath = join(dir, 'notes.vscan');
  const doc = parseVscan('Scene: x\n');
  const options = { probes: new ProbeCache(), probeWaitMs: 0 };
  const first = await resolveDocumentContext(doc, documentPath, options);
  assert.equal(first.context.video, undefined);
  await writeFile(join(dir, 'notes.mp4'), '');
  const second = await resolveDocumentContext(doc, documentPath, options);
  assert.equal(second.context.video?.path, join(dir, 'notes.mp4'));
  await second.pendingProbe;
  await rename(join(dir, 'notes.mp4'), join(dir, 'other.mkv'));
  const third = await resolveDocumentContext(doc, documentPath, options);
  assert.equal(third.context.video, undefined);
  assert.deepEqual(third.context.siblingVideos, ['other.mkv']);
});
