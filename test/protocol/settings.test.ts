/** The client's videoScan.* configuration as the server reads it: valid values kept, anything else the default. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineSettings, readServerSettings } from '../../server/src/lsp/settings';

test('model settings: where, at what precision, with which weights and K/V cache and how many threads the engine runs', () => {
  const defaults = readServerSettings(undefined);
  assert.deepEqual(engineSettings(defaults), { model: 'cudabenchmarktest/video-scan', executionProvider: 'auto', precision: 'auto', weights: 'auto', kvCache: 'auto', threads: undefined });
  assert.equal(defaults.maxNewTokens, 2048);
  const chosen = readServerSettings({ model: { path: '/models/video-scan', executionProvider: 'cpu', precision: 'fp16', weights: 'int4', kvCache: 'float', threads: 3, maxNewTokens: 64 } });
  assert.deepEqual(engineSettings(chosen), { model: '/models/video-scan', executionProvider: 'cpu', precision: 'fp16', weights: 'int4', kvCache: 'float', threads: 3 });
  assert.equal(chosen.maxNewTokens, 64);
  for (const ep of ['auto', 'cuda', 'webgpu', 'cpu']) assert.equal(readServerSettings({ model: { executionProvider: ep } }).executionProvider, ep);
  // Values a hand-edited settings.json may hold: each falls back to its default.
  const odd = readServerSettings({ model: { path: '', executionProvider: 'gpu', precision: 'fp8', weights: 'int3', kvCache: 'int4', threads: -2, maxNewTokens: 1.5 } });
  assert.deepEqual(engineSettings(odd), engineSettings(defaults));
  assert.equal(odd.maxNewTokens, 2048);
  assert.equal(readServerSettings({ model: { threads: 2.5 } }).threads, undefined);
});

test('the model: videoScan.model.checkpoint (a Hub id or folder), else the deprecated videoScan.model.path, else the video-scan repo', () => {
  assert.equal(readServerSettings({ model: { checkpoint: 'owner/name@v2' } }).model, 'owner/name@v2');
  assert.equal(readServerSettings({ model: { checkpoint: '/models/mine', path: '/models/old' } }).model, '/models/mine');
  // VS Code sends the default with the rest: an old path setting still wins over it.
  assert.equal(readServerSettings({ model: { checkpoint: 'cudabenchmarktest/video-scan', path: '/models/old' } }).model, '/models/old');
  assert.equal(readServerSettings({ model: { checkpoint: '  ', path: 7 } }).model, 'cudabenchmarktest/video-scan');
});
