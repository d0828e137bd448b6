/**
 * Nothing lost (issue 11): a caption that cannot be written where asked is kept elsewhere
 * and the user is told where; no temporary file is ever left; a read-only target is found
 * before the model runs; a video's name cannot inject lines into the written .vscan.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseVscan } from '../../server/src/language';
import { captionToVscan, checkWritableTarget, writeCaptionKeepingResult, writeNewFile } from '../../server/src/tasks/writeResult';
import { vscan } from '../helpers/cli';
import { makeVideo, tempDir } from '../helpers/videos';

const CAPTION = captionToVscan({ scene: 'A dog runs.', events: [{ start: 0, end: 1.5, description: 'runs' }], format_ok: true, caption: '' }, 'clip.mp4');

const mounts: string[] = [];
after(() => {
  for (const mount of mounts.reverse()) execFileSync('umount', [mount]);
});

/**
 * A real filesystem that is full (or read-only): a small tmpfs, which needs root. Without
 * root the tests below still check the same behaviour on a write that fails for another
 * real reason (the folder is a file), so nothing is skipped.
 */
async function smallFilesystem(options: 'full' | 'ro'): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const mount = await tempDir('vscan-fs-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=64k${options === 'ro' ? ',ro' : ''}`, 'tmpfs', mount], { stdio: 'ignore' });
  } catch {
    return undefined; // a container without mount rights: the portable case still runs
  }
  mounts.push(mount);
  if (options === 'full') {
    // Fill it to the last block, so that even a small caption cannot be written.
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(mount, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // dd ends with ENOSPC: that is the point
    }
  }
  return mount;
}

async function leftovers(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => name.endsWith('.tmp'));
}

test('a failed write leaves no temporary file: on a full disk and on a folder that is a file', async () => {
  const dir = await tempDir();
  const full = await smallFilesystem('full');
  if (full) {
    for (let i = 0; i < 3; i++) await assert.rejects(writeNewFile([join(full, 'clip.vscan')], CAPTION), /ENOSPC/);
    assert.deepEqual(await leftovers(full), [], 'a 0-byte .clip.vscan.<hex>.tmp was left per try before');
  }
  await writeFile(join(dir, 'file'), '');
  await assert.rejects(writeNewFile([join(dir, 'file', 'clip.vscan')], CAPTION), /ENOTDIR/);
  assert.deepEqual(await leftovers(dir), []);
});

test('a caption that cannot be written is kept in the fallback folder, and the notice says where and why', async () => {
  const dir = await tempDir();
  const fallback = join(dir, 'unsaved');
  const full = await smallFilesystem('full');
  const targets = full ? [join(full, 'clip.vscan')] : [join(dir, 'not-a-folder', 'clip.vscan')];
  await writeFile(join(dir, 'not-a-folder'), '');
  const kept = await writeCaptionKeepingResult(targets, CAPTION, fallback);
  assert.ok(kept.path?.startsWith(join(fallback, 'clip-')), kept.path);
  assert.equal(await readFile(kept.path!, 'utf8'), CAPTION);
  assert.match(kept.notice!, new RegExp(`^${targets[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: could not write the caption \\((ENOSPC|ENOTDIR)[^)]*\\); kept it in ${kept.path!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  assert.ok(!kept.notice!.includes('\n'));
  // Written where asked: no notice.
  assert.deepEqual(await writeCaptionKeepingResult([join(dir, 'ok.vscan')], CAPTION, fallback), { path: join(dir, 'ok.vscan') });
  // Written nowhere: no path, and the caller keeps the text (the server sends it for an untitled editor).
  const nowhere = await writeCaptionKeepingResult(targets, CAPTION, join(dir, 'not-a-folder', 'unsaved'));
  assert.equal(nowhere.path, undefined);
  assert.match(nowhere.notice!, /could not write the caption .*, nor in .*not-a-folder.*unsaved \(/);
});

test('an unwritable target folder is found before anything runs, in one line', async () => {
  const dir = await tempDir();
  await assert.rejects(checkWritableTarget([join(dir, 'missing', 'clip.vscan')]), new RegExp(`^Error: ${join(dir, 'missing')}: cannot write the caption there \\(ENOENT on stat\\)`));
  await writeFile(join(dir, 'file'), '');
  await assert.rejects(checkWritableTarget([join(dir, 'file', 'clip.vscan')]), /file: cannot write the caption there \(ENOTDIR on stat\)/);
  const readOnly = await smallFilesystem('ro');
  if (readOnly) await assert.rejects(checkWritableTarget([join(readOnly, 'clip.vscan')]), /cannot write the caption there \(EROFS on access\)/);
  await checkWritableTarget([join(dir, 'clip.vscan')]);
});

test('vscan caption into an unwritable folder fails before loading the model', async () => {
  const dir = await tempDir();
  const video = await makeVideo(join(dir, 'clip.mp4'), 1, '64x48', 2);
  // The model folder does not exist either: the folder check comes first, so the model is never touched.
  const result = vscan(['caption', video, '--model', join(dir, 'no-model'), '--out', join(dir, 'missing', 'clip.vscan')]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /missing: cannot write the caption there \(ENOENT on stat\); choose another folder or --out file/);
  assert.doesNotMatch(result.stderr, /no-model/);
});

test('a line break in the video name cannot inject header lines into the written .vscan', () => {
  const name = 'clip\nModel: injected\nScene: fake\u2028.mp4';
  const text = captionToVscan({ scene: 'A dog runs.', events: [], format_ok: true, caption: '' }, name, { Model: 'tiny' });
  const doc = parseVscan(text);
  assert.deepEqual(doc.headers.map((h) => `${h.key}: ${h.value}`), ['Model: tiny']);
  assert.equal(doc.blocks.length, 1);
  assert.equal(doc.blocks[0].text, 'A dog runs.');
  assert.match(text.split('\n')[0], /^# The video's name has a line break .*: clip\\u000aModel: injected\\u000aScene: fake\\u2028\.mp4$/);
  assert.match(captionToVscan({ scene: 'x', events: [], format_ok: true, caption: '' }, 'plain name.mp4'), /^Video: plain name\.mp4\n/);
});
