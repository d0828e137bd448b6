/** The engine in its own process: requests, streaming, cancellation, restart after a crash. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EngineCrashedError, EngineHost } from '../../server/src/model/runtime/engineHost';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

let host: EngineHost;
let tiny: string;
let cacheDir: string;

before(async () => {
  const made = await tempTinyCheckpoint('vscan-host-', 2);
  tiny = made.tiny;
  cacheDir = join(made.dir, 'cache');
  host = new EngineHost();
});

after(() => host.dispose());

test('loads, tokenizes and generates in the engine process, streaming tokens', async () => {
  const report = await host.load(tiny, { executionProvider: 'cpu', cacheDir });
  assert.equal(report.executionProvider, 'cpu');
  assert.notEqual(host.pid, process.pid);
  const prompt = await host.encodeChat('Describe the video.');
  const streamed: number[] = [];
  const result = await host.generate(prompt, { maxNewTokens: 5, onToken: (token) => streamed.push(token) });
  assert.deepEqual(streamed, result.ids);
});

test('cancellation stops generation between steps', async () => {
  const prompt = await host.encodeChat('Describe the video.');
  const controller = new AbortController();
  await assert.rejects(host.generate(prompt, { maxNewTokens: 10_000, signal: controller.signal, onToken: () => controller.abort() }),
    (e: Error & { cancelled?: boolean }) => e.cancelled === true);
});

test('a crash fails the request in flight with a clear error, and the engine restarts', async () => {
  const prompt = await host.encodeChat('Describe the video.');
  const crashes: string[] = [];
  host.onCrash = (reason) => crashes.push(reason);
  const running = host.generate(prompt, { maxNewTokens: 10_000, onToken: () => { if (host.pid) process.kill(host.pid, 'SIGKILL'); } });
  await assert.rejects(running, (e: Error) => e instanceof EngineCrashedError && /the model engine stopped \(SIGKILL\)/.test(e.message));
  assert.equal(crashes.length, 1);
  const again = await host.generate(prompt, { maxNewTokens: 3 });
  assert.ok(again.ids.length <= 3);
});

test('a load reports its stages from the engine process: quantizing the weights the first time, with percentages', async () => {
  const stages: string[] = [];
  const report = await host.load(tiny, { executionProvider: 'cpu', cacheDir: join(cacheDir, 'quantized'), weights: 'int4', onLoadProgress: (stage, detail) => stages.push(`${stage}: ${detail}`) });
  assert.equal(report.weights, 'int4');
  assert.ok(stages.some((line) => /^quantize: quantizing the text-model weights to int4: 100%$/.test(line)), stages.join('\n'));
  assert.ok(stages.some((line) => line.startsWith('quantize: quantizing the vision-encoder weights')), stages.join('\n'));
  assert.ok(stages.at(-1)?.startsWith('session:'));
});
