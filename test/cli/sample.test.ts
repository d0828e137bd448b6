/** The sample workspace (README's "try it", e2e tests) shows every diagnostic it claims to. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type { CliDiagnostic } from '../../server/src/cli/check';
import { vscan } from '../helpers/cli';
import { makeSampleVideos } from '../sample-workspace/make-videos';

const folder = join(__dirname, '..', 'sample-workspace');

before(async () => {
  await makeSampleVideos();
});

test('each sample file shows its diagnostics', () => {
  const all = JSON.parse(vscan(['check', folder, '--json']).stdout) as CliDiagnostic[];
  const codes = (name: string) => new Set(all.filter((d) => d.file.endsWith(name)).map((d) => d.code));
  assert.deepEqual([...codes('kitchen.vscan')], []);
  assert.deepEqual([...codes('problems.vscan')].sort(), ['duplicate-event', 'empty-description', 'empty-span', 'malformed-event', 'malformed-time',
    'negative-time', 'out-of-range', 'overlap', 'reversed-span', 'unexpected-text', 'unsorted']);
  assert.deepEqual([...codes('missing.vscan')], ['missing-video']);
  assert.deepEqual([...codes('unlinked.vscan')], ['no-video']);
  assert.deepEqual([...codes('long.vscan')], ['overlap']);
});
