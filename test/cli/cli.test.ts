import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { CliDiagnostic } from '../../server/src/cli/check';
import { vscan } from '../helpers/cli';
import { TestClient } from '../helpers/lspClient';
import { makeVideo, tempDir } from '../helpers/videos';

let dir: string;
const sample = 'Scene: x\nEvents:\n<0.0 - 1.0> a\n<0.5 - 2.0> b\n<2.0 - 9.0> c\n<3 - 3>\n';

before(async () => {
  dir = await tempDir();
  await makeVideo(join(dir, 'clip.mp4'), 4);
  await writeFile(join(dir, 'clip.vscan'), sample);
  await writeFile(join(dir, 'clean.vscan'), 'Video: clip.mp4\nScene: x\nEvents:\n<0.0 - 1.0> a\n');
});

test('check --json prints LSP-style diagnostics and exits 1 on errors', () => {
  const result = vscan(['check', join(dir, 'clip.vscan'), '--json']);
  assert.equal(result.code, 1, result.stderr);
  const diagnostics = JSON.parse(result.stdout) as CliDiagnostic[];
  assert.deepEqual(diagnostics.map((d) => [d.code, d.severity, d.range.start.line]), [
    ['overlap', 'warning', 3],
    ['out-of-range', 'error', 4],
    ['empty-span', 'warning', 5],
    ['empty-description', 'warning', 5],
  ]);
  assert.deepEqual(Object.keys(diagnostics[0]).sort(), ['code', 'file', 'message', 'range', 'severity']);
});

test('check agrees with the language server on the same file', async () => {
  const cli = JSON.parse(vscan(['check', join(dir, 'clip.vscan'), '--json']).stdout) as CliDiagnostic[];
  const client = await TestClient.start();
  try {
    const uri = pathToFileURL(join(dir, 'clip.vscan')).href;
    await client.open(uri, sample);
    const lsp = await client.diagnostics(uri, (p) => p.diagnostics.some((d) => d.code === 'out-of-range'));
    const names = ['error', 'warning', 'information', 'hint'];
    assert.deepEqual(
      lsp.diagnostics.map((d) => ({ range: d.range, severity: names[d.severity! - 1], code: d.code, message: d.message })),
      cli.map(({ file: _file, ...rest }) => rest),
    );
  } finally {
    await client.stop();
  }
});

test('check exits 0 without errors, takes folders, and prints human lines', () => {
  const clean = vscan(['check', join(dir, 'clean.vscan')]);
  assert.equal(clean.code, 0);
  assert.equal(clean.stdout, '');
  const folder = vscan(['check', dir]);
  assert.equal(folder.code, 1);
  assert.match(folder.stdout, /clip\.vscan:5:8: error out-of-range: Time 9\.0 is beyond the end of the video/);
});

test('check honours severity and tolerance flags', () => {
  const result = vscan(['check', join(dir, 'clip.vscan'), '--json', '--severity', 'out-of-range=off', '--severity', 'overlap=error', '--overlap-tolerance', '1']);
  assert.equal(result.code, 0);
  assert.deepEqual((JSON.parse(result.stdout) as CliDiagnostic[]).map((d) => d.code), ['empty-span', 'empty-description']);
});

test('bad usage and unreadable files exit 2 with the reason on stderr', () => {
  for (const args of [['check'], ['check', join(dir, 'nope.vscan')], ['frobnicate'], ['check', '--bogus', 'x'], ['check', 'x', '--severity', 'overlap=loud']]) {
    const result = vscan(args);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, /^vscan: \S/, args.join(' '));
  }
  assert.match(vscan(['check', join(dir, 'nope.vscan')]).stderr, /nope\.vscan: no such file/);
});

test('format prints, --check reports, --write rewrites atomically', async () => {
  const file = join(dir, 'messy.vscan');
  await writeFile(file, 'Scene:   x  \nEvents: <1 - 2>  a\n');
  const printed = vscan(['format', file]);
  assert.equal(printed.code, 0);
  assert.equal(printed.stdout, 'Scene: x\nEvents:\n<1.0 - 2.0>  a\n'.replace('>  a', '> a'));
  assert.equal(vscan(['format', file, '--check']).code, 1);
  assert.equal(vscan(['format', file, '--write']).code, 0);
  assert.equal(await readFile(file, 'utf8'), printed.stdout);
  assert.equal(vscan(['format', file, '--check']).code, 0);
  assert.equal(vscan(['format', file, '--time-style', 'clock']).stdout, 'Scene: x\nEvents:\n<0:01.0 - 0:02.0> a\n');
});

test('a byte-order mark is not part of the first line', async () => {
  const file = join(dir, 'bom.vscan');
  await writeFile(file, '\uFEFFVideo: clip.mp4\nScene: x\nEvents:\n<9 - 10> a\n');
  const [d] = JSON.parse(vscan(['check', file, '--json']).stdout) as CliDiagnostic[];
  assert.deepEqual([d.code, d.range.start.character], ['out-of-range', 1]);
});
