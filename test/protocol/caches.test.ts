/**
 * The caches the editor fills on demand (the preview's proxies and filmstrips, the library's
 * thumbnails) are brought back within their size when the server starts: here, a partial
 * file a crash left behind an hour ago goes from each, a finished one stays.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { TestClient } from '../helpers/lspClient';
import { tempDir } from '../helpers/videos';

test('at start the server prunes the preview cache and the thumbnails folder it is given', async () => {
  const dir = await tempDir();
  const preview = join(dir, 'preview-proxies');
  const thumbnails = join(dir, 'storage', 'thumbnails');
  const twoHoursAgo = (Date.now() - 2 * 3600_000) / 1000;
  for (const folder of [preview, thumbnails]) {
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'left.mp4.99.partial'), 'x');
    await utimes(join(folder, 'left.mp4.99.partial'), twoHoursAgo, twoHoursAgo);
    await writeFile(join(folder, 'kept.png'), 'y');
  }
  const client = await TestClient.start(undefined, 'stdio', { initialization: { previewCache: preview, libraryStorage: join(dir, 'storage') } });
  try {
    await client.log(new RegExp(`${preview.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: removed 1 `));
    await client.log(/thumbnails: removed 1 /);
    assert.deepEqual(await readdir(preview), ['kept.png']);
    assert.deepEqual(await readdir(thumbnails), ['kept.png']);
  } finally {
    assert.equal(await client.stop(), 0);
  }
});
