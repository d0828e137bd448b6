/** Model specs (folder or Hub id) and the cache folder as Python finds it. */
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hubCacheDir, isNeededFile } from '../../server/src/model/acquire/hubCache';
import { parseModelSpec } from '../../server/src/model/acquire/modelSpec';
import { tempDir } from '../helpers/videos';

test('a spec is a folder when one exists, else a Hub id with an optional revision', async () => {
  assert.deepEqual(parseModelSpec('cudabenchmarktest/video-scan'), { kind: 'hub', spec: 'cudabenchmarktest/video-scan', repo: 'cudabenchmarktest/video-scan', revision: 'main' });
  assert.deepEqual(parseModelSpec('owner/name@v1.0'), { kind: 'hub', spec: 'owner/name@v1.0', repo: 'owner/name', revision: 'v1.0' });
  assert.deepEqual(parseModelSpec('owner/name@refs/pr/3'), { kind: 'hub', spec: 'owner/name@refs/pr/3', repo: 'owner/name', revision: 'refs/pr/3' });
  const dir = await tempDir('vscan-spec-');
  assert.deepEqual(parseModelSpec(dir), { kind: 'folder', spec: dir, dir });
  // Not Hub ids: read as folders (which then fail naming themselves).
  for (const spec of ['./owner/name', '/abs/path', 'a/b/c', 'owner/na--me', 'owner/../x', 'owner/name@..', 'owner/name@', 'owner/name@-x']) {
    assert.equal(parseModelSpec(spec).kind, 'folder', spec);
  }
});

test('the cache folder follows HF_HUB_CACHE, then HF_HOME, then XDG_CACHE_HOME, then ~/.cache; empty counts as unset', () => {
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h' }), '/c');
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '', HF_HOME: '/h' }), '/h/hub');
  assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/huggingface/hub');
  assert.equal(hubCacheDir({}), join(homedir(), '.cache', 'huggingface', 'hub'));
});

test('only the files the engine reads are fetched', () => {
  for (const name of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'prompts.json',
    'model.safetensors', 'model-00001-of-00002.safetensors', 'model.safetensors.index.json', 'README.md', 'LICENSE']) assert.ok(isNeededFile(name), name);
  for (const name of ['onnx/model.onnx', 'pytorch_model.bin', 'training_args.bin', 'sub/config.json', 'notes.txt', '.gitattributes']) assert.ok(!isNeededFile(name), name);
});
