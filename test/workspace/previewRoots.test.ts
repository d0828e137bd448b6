import assert from 'node:assert/strict';
import { test } from 'node:test';
import { previewRoots } from '../../client/src/previewRoots';

const base = { scripts: '/ext/dist', proxyFolder: '/storage/preview-proxies', workspaceFolders: ['/work/repo'] };

test('a video inside the workspace: its folder and the scripts, nothing else', () => {
  const result = previewRoots({ ...base, documentPath: '/work/repo/clips/a.vscan', videoPath: '/work/repo/media/a.mp4' });
  assert.deepEqual(result, { roots: ['/ext/dist', '/work/repo/media'], video: '/work/repo/media/a.mp4' });
});

test('Video: naming a file outside the workspace never widens the roots', () => {
  for (const videoPath of ['/etc/passwd', '/home/user/private/a.mp4', '/work/repository/a.mp4']) {
    const result = previewRoots({ ...base, documentPath: '/work/repo/a.vscan', videoPath });
    assert.deepEqual(result.roots, ['/ext/dist']);
    assert.equal(result.video, undefined);
    assert.match(result.refused!, /outside the workspace/);
  }
});

test('a .vscan the user opened from outside the workspace may show a video under its own folder only', () => {
  const opened = { ...base, documentPath: '/home/user/clips/a.vscan' };
  assert.deepEqual(previewRoots({ ...opened, videoPath: '/home/user/clips/raw/a.mp4' }).roots, ['/ext/dist', '/home/user/clips/raw']);
  const refused = previewRoots({ ...opened, videoPath: '/home/user/other/b.mp4' });
  assert.deepEqual(refused.roots, ['/ext/dist']);
  assert.match(refused.refused!, /outside this file's folder/);
  // An empty window (no workspace folder): every file is opened from outside.
  assert.deepEqual(previewRoots({ ...base, workspaceFolders: [], documentPath: '/tmp/x/a.vscan', videoPath: '/tmp/x/a.mp4' }).video, '/tmp/x/a.mp4');
});

test('a proxy in the extension storage is loadable; no video means the scripts alone', () => {
  assert.deepEqual(previewRoots({ ...base, documentPath: '/work/repo/a.vscan', videoPath: '/storage/preview-proxies/1234.mp4' }).roots, ['/ext/dist', '/storage/preview-proxies']);
  assert.deepEqual(previewRoots({ ...base, documentPath: '/work/repo/a.vscan' }), { roots: ['/ext/dist'] });
});
