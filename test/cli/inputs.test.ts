/**
 * Inputs that are not what they seem (issue 11): a FIFO named like a .vscan or a video, a
 * symlinked .vscan written by `format --write`, a video name that is Markdown.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstat, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { escapeMarkdown, hoverAt, parseVscan } from '../../server/src/language';
import type { CliDiagnostic } from '../../server/src/cli/check';
import { vscan } from '../helpers/cli';
import { tempDir } from '../helpers/videos';

let dir: string;
before(async () => {
  dir = await tempDir('vscan-inputs-');
});

test('a FIFO given as a .vscan to check or format fails at once in one line (it hung)', () => {
  const pipe = join(dir, 'pipe.vscan');
  execFileSync('mkfifo', [pipe]);
  for (const args of [['check', pipe], ['format', pipe], ['format', pipe, '--write']]) {
    const result = vscan(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr.trim(), `vscan: ${pipe}: is a FIFO (named pipe), expected a regular file`);
  }
});

test('a FIFO as the linked video (by header or by name) is refused by name: not a regular file', async () => {
  execFileSync('mkfifo', [join(dir, 'fifo.mp4')]);
  execFileSync('mkfifo', [join(dir, 'same.mp4')]);
  await writeFile(join(dir, 'header.vscan'), 'Video: fifo.mp4\nScene: x\n');
  await writeFile(join(dir, 'same.vscan'), 'Scene: x\n');
  const result = vscan(['check', join(dir, 'header.vscan'), join(dir, 'same.vscan'), '--json']);
  const diagnostics = JSON.parse(result.stdout) as CliDiagnostic[];
  assert.deepEqual(diagnostics.map((d) => [d.file.slice(dir.length + 1), d.code]), [['header.vscan', 'unreadable-video'], ['same.vscan', 'unreadable-video']]);
  assert.ok(diagnostics.every((d) => / not a regular file/.test(d.message)), JSON.stringify(diagnostics));
});

test('format --write on a symlinked .vscan writes through the link and keeps it a link', async () => {
  const real = join(dir, 'real.vscan');
  const link = join(dir, 'link.vscan');
  await writeFile(real, 'Scene: x\nEvents:\n<1 - 2>   a\n');
  await symlink('real.vscan', link);
  const result = vscan(['format', link, '--write']);
  assert.equal(result.code, 0, result.stderr);
  assert.ok((await lstat(link)).isSymbolicLink(), 'the link was replaced by a plain file');
  assert.equal(await readlink(link), 'real.vscan');
  assert.equal(await readFile(real, 'utf8'), 'Scene: x\nEvents:\n<1.0 - 2.0> a\n');
});

test('the hover shows the Video: path as literal text, never as Markdown', () => {
  const path = '/w/a`](command:workbench.action.terminal.new) **b**\n# c <img src=x>.mp4';
  const doc = parseVscan('Video: x.mp4\nScene: x\n');
  const hover = hoverAt(doc, { line: 0, character: 8 }, { video: { path, uri: 'file:///w/x.mp4', explicit: true, exists: true, durationSec: 10 } });
  const value = (hover!.contents as { value: string }).value;
  const shown = value.split('\n\n')[0];
  assert.equal(shown, `**Video** ${escapeMarkdown(path)}`);
  // No Markdown syntax character is left unescaped, and the line break did not start a heading.
  assert.doesNotMatch(shown.slice('**Video** '.length), /(^|[^\\])[`[\]()*<>#]/);
  assert.ok(!shown.includes('\n'));
  // Unescaping gives back the path (line breaks as spaces).
  assert.equal(shown.slice('**Video** '.length).replace(/\\(.)/g, '$1'), path.replace('\n', ' '));
});
