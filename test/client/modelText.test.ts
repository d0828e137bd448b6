/** The client's model words: Hub id validation, sizes, licences, names, availability, where the engine runs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { availability, DEFAULT_MODEL, describeEngine, hubIdProblem, licenceInWords, problemOf, shortModelName } from '../../client/src/modelText';

test('Hub ids: owner/name with an optional @revision pass; anything else says what is wrong', () => {
  for (const ok of [DEFAULT_MODEL, 'Qwen/Qwen3.5-2B', 'owner/name@main', 'owner/name@v1.0', 'owner/name@0123abcd', 'a.b/c_d-e', '  owner/name  ']) {
    assert.equal(hubIdProblem(ok), undefined, ok);
  }
  assert.match(hubIdProblem('')!, /Type a Hub id/);
  for (const bad of ['name', 'owner/', '/name', 'owner/name/extra', 'owner name/x', 'owner/name@', 'owner/name@a@b', '-owner/name', 'https://huggingface.co/owner/name', '~/models/x']) {
    assert.match(hubIdProblem(bad)!, /is not a Hub id: expected owner\/name/, bad);
  }
  for (const bad of ['owner/na..me', 'owner/na--me', 'owner./name', 'owner/name.']) {
    assert.match(hubIdProblem(bad)!, /is not a Hub id/, bad);
  }
  assert.match(hubIdProblem(`owner/${'x'.repeat(100)}`)!, /longer than 96/);
});

test('licences: known ids in words, others as declared, none said so', () => {
  assert.equal(licenceInWords('bsl-1.1'), 'Business Source License 1.1 (bsl-1.1)');
  assert.equal(licenceInWords('Apache-2.0'), 'Apache License 2.0 (Apache-2.0)');
  assert.equal(licenceInWords('other'), 'other');
  assert.equal(licenceInWords(undefined), 'not declared on the model card');
});

test('short names: a Hub id\'s name and revision, a folder\'s last part', () => {
  assert.equal(shortModelName(DEFAULT_MODEL), 'video-scan');
  assert.equal(shortModelName('owner/name@v2'), 'name@v2');
  assert.equal(shortModelName('/home/me/models/video-scan-ft/'), 'video-scan-ft');
  assert.equal(shortModelName('C:\\models\\tiny'), 'tiny');
});

test('availability: downloaded, a problem, not downloaded with its size, an incomplete folder', () => {
  assert.equal(availability({ spec: 'a/b', kind: 'hub', ready: true }), '$(check) downloaded');
  assert.equal(availability({ spec: 'a/b', kind: 'hub', ready: false, problem: 'a/b: not found on the Hub' }), '$(warning) not found on the Hub');
  assert.equal(problemOf({ spec: 'a/b', problem: 'HF_HUB_OFFLINE is set' }), 'HF_HUB_OFFLINE is set', 'a problem without the spec first is kept whole');
  assert.equal(problemOf({ spec: 'a/b', repo: 'a/b', problem: 'a/b@main: the Hub answered 404' }), 'the Hub answered 404');
  assert.equal(problemOf({ spec: 'a/b', repo: 'a/b', problem: 'a/b@main is odd: x' }), 'a/b@main is odd: x', 'only a spec-like prefix is dropped');
  assert.equal(availability({ spec: 'a/b', kind: 'hub', ready: false, downloadBytes: 12_600_000 }), '$(cloud-download) not downloaded · 12.0 MiB');
  assert.equal(availability({ spec: '/m', kind: 'folder', ready: false }), '$(warning) not a complete checkpoint');
});

test('where the engine runs, in words', () => {
  assert.equal(describeEngine({ executionProvider: 'cuda', precision: 'fp16', adapter: 'NVIDIA H200' }), 'the GPU through CUDA, fp16 on NVIDIA H200');
  assert.equal(describeEngine({ executionProvider: 'webgpu', adapter: 'nvidia hopper (vulkan)' }), 'the GPU through WebGPU on nvidia hopper (vulkan)');
  assert.equal(describeEngine({ executionProvider: 'cpu', precision: 'fp32', adapter: 'ignored' }), 'the CPU, fp32');
  assert.equal(describeEngine({}), 'a provider the engine did not name');
  assert.equal(describeEngine({ executionProvider: 'cpu', precision: 'fp32', weights: 'int8' }), 'the CPU, fp32 with int8 weights');
  assert.equal(describeEngine({ executionProvider: 'cpu', precision: 'fp32', weights: 'bf16' }), 'the CPU, fp32');
  assert.equal(describeEngine({ executionProvider: 'cpu', precision: 'fp32', weights: 'int8', kvCache: 'int8' }), 'the CPU, fp32 with int8 weights and an 8-bit K/V cache');
  assert.equal(describeEngine({ executionProvider: 'cpu', precision: 'fp32', weights: 'bf16', kvCache: 'float' }), 'the CPU, fp32');
});
