/**
 * A chat template is code from the checkpoint (issue 11): rendering is bounded in time,
 * memory and length, fails in one line naming the template, and a cancel stops it at once,
 * in the engine process too, whose thread stays free to answer.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EngineHost } from '../../server/src/model/runtime/engineHost';
import { CheckpointError } from '../../server/src/model/checkpoint/safetensors';
import { TemplateCancelledError } from '../../server/src/model/checkpoint/templateRender';
import { ModelTokenizer } from '../../server/src/model/checkpoint/tokenizer';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';
import { tempTinyCheckpoint } from '../helpers/tinyModel';
import { makeVideo } from '../helpers/videos';

/** The case: nested loops over 1e8 (today: 4.8 GB and ~50 s before a crash). */
const GREEDY_LOOPS = '{% for i in range(100000000) %}{% for j in range(100000000) %}x{% endfor %}{% endfor %}';
/** Loops that allocate little and would run for hours: only a deadline or a cancel ends them. */
const SLOW_LOOPS = '{% for i in range(3000) %}{% for j in range(3000) %}{% for k in range(3000) %}{% endfor %}{% endfor %}{% endfor %}{{ messages[0].content }}';

let dir: string;
let tiny: string;
const host = new EngineHost();

before(async () => {
  ({ dir, tiny } = await tempTinyCheckpoint('vscan-template-', 3));
});
after(() => host.dispose());

async function tokenizerWith(template: string): Promise<ModelTokenizer> {
  await writeFile(join(tiny, 'chat_template.jinja'), template);
  return ModelTokenizer.load(tiny);
}

const userMessage = [{ role: 'user' as const, content: 'Describe the video.' }];

test('nested range(1e8) loops fail within the bounds with one line naming the template', { timeout: 60_000 }, async () => {
  const tokenizer = await tokenizerWith(GREEDY_LOOPS);
  await assert.rejects(tokenizer.renderChat(userMessage), (e: Error) => e instanceof CheckpointError && !e.message.includes('\n')
    && e.message.startsWith(join(tiny, 'chat_template.jinja')) && /rendering the chat template failed \(rendering (took longer than 5 s|used more than the 256 MB)/.test(e.message));
});

test('a slow template meets the deadline; an output beyond the limit is refused', { timeout: 60_000 }, async () => {
  const slow = await tokenizerWith(SLOW_LOOPS);
  slow.templateLimits = { ...slow.templateLimits, timeoutMs: 1000 };
  await assert.rejects(slow.renderChat(userMessage), /chat_template\.jinja: rendering the chat template failed \(rendering took longer than 1 s \(a loop in the template\?\)\)$/);
  const long = await tokenizerWith('{% for i in range(2000) %}0123456789{% endfor %}');
  long.templateLimits = { ...long.templateLimits, maxChars: 10_000 };
  await assert.rejects(long.renderChat(userMessage), /it rendered 20,000 characters, more than the 10,000 a prompt may be/);
  long.templateLimits = { ...long.templateLimits, maxChars: 20_000 };
  assert.equal((await long.renderChat(userMessage)).length, 20_000);
});

test('a cancel stops a running render at once (a deadline of 10 minutes would fail the test by its timeout)', { timeout: 60_000 }, async () => {
  const tokenizer = await tokenizerWith(SLOW_LOOPS);
  tokenizer.templateLimits = { ...tokenizer.templateLimits, timeoutMs: 600_000 };
  const controller = new AbortController();
  const rendering = tokenizer.renderChat(userMessage, { signal: controller.signal });
  setTimeout(() => controller.abort(), 300); // let the worker start and enter the loops
  await assert.rejects(rendering, (e: Error) => e instanceof TemplateCancelledError);
});

test('the engine process answers a cancel during a runaway template render with a cancelled error', { timeout: 120_000 }, async () => {
  await writeFile(join(tiny, 'chat_template.jinja'), SLOW_LOOPS.replace('{{ messages[0].content }}', '{{ messages[0].content[1].text }}<|vision_start|><|video_pad|><|vision_end|>'));
  const video = await makeVideo(join(dir, 'clip.mp4'), 2, '64x48', 4);
  await host.load(tiny, { executionProvider: 'cpu', cacheDir: join(dir, 'cache') });
  const controller = new AbortController();
  let cancelSent = false;
  const task = host.videoTask({ task: 'caption', video, sampling: TRAINING_DEFAULTS, maxNewTokens: 4 }, {
    signal: controller.signal,
    onProgress: (progress) => {
      // The vision tower is done: the prompt is rendered next. Cancel once the render runs.
      if (progress.stage === 'encoding' && progress.done === progress.total && !cancelSent) {
        cancelSent = true;
        setTimeout(() => controller.abort(), 500);
      }
    },
  });
  // The render's own deadline is 5 s: a cancelled answer (not the deadline's error) shows the engine heard the cancel.
  await assert.rejects(task, (e: Error & { cancelled?: boolean }) => e.cancelled === true && !/took longer/.test(e.message));
  assert.ok(cancelSent, 'the vision stage was reported');
});
