/**
 * Checkpoint files are untrusted input (issue 11): a FIFO, a folder or an oversized file
 * in place of a checkpoint file fails at once with one line naming it, and config sizes are
 * checked against memory before anything is allocated for them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { openCheckpoint } from '../../server/src/model/checkpoint/checkpoint';
import { readModelConfig } from '../../server/src/model/checkpoint/config';
import { checkConfigSize } from '../../server/src/model/checkpoint/configSize';
import { CheckpointError, readSafetensorsHeader } from '../../server/src/model/checkpoint/safetensors';
import { ModelTokenizer } from '../../server/src/model/checkpoint/tokenizer';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

let tiny: string;
let dir: string;
before(async () => {
  ({ dir, tiny } = await tempTinyCheckpoint('vscan-inputs-', 1));
});

/** A copy of the tiny checkpoint with `name` replaced by what `make` puts there. */
async function replaced(folder: string, name: string, make: (path: string) => Promise<void>): Promise<string> {
  const out = join(dir, folder);
  await mkdir(out, { recursive: true });
  for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'generation_config.json']) {
    await copyFile(join(tiny, file), join(out, file));
  }
  await rm(join(out, name));
  await make(join(out, name));
  return out;
}

const fifo = async (path: string) => void execFileSync('mkfifo', [path]);
const folder = async (path: string) => void (await mkdir(path));

/** One line that names the file and says what it is. */
function oneLineNaming(file: string, what: RegExp) {
  return (error: Error) => error instanceof CheckpointError && !error.message.includes('\n') && error.message.startsWith(file) && what.test(error.message);
}

// The timeout turns a hang (today's behaviour on a FIFO) into a failure instead of a stuck suite.
test('a FIFO as config.json, tokenizer.json, tokenizer_config.json, chat_template.jinja or model.safetensors is refused, not read', { timeout: 60_000 }, async () => {
  for (const name of ['config.json', 'model.safetensors']) {
    const checkpoint = await replaced(`fifo-${name}`, name, fifo);
    await assert.rejects(openCheckpoint(checkpoint), oneLineNaming(join(checkpoint, name), /is a FIFO \(named pipe\), expected a regular file/), name);
  }
  for (const name of ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja']) {
    const checkpoint = await replaced(`fifo-${name}`, name, fifo);
    await assert.rejects(ModelTokenizer.load(checkpoint), oneLineNaming(join(checkpoint, name), /is a FIFO/), name);
  }
});

test('model.safetensors or config.json being a folder is a one-line error, not a stack trace', async () => {
  const weights = await replaced('folder-weights', 'model.safetensors', folder);
  await assert.rejects(openCheckpoint(weights), oneLineNaming(join(weights, 'model.safetensors'), /is a folder, expected a regular file/));
  const config = await replaced('folder-config', 'config.json', folder);
  await assert.rejects(readModelConfig(config), oneLineNaming(join(config, 'config.json'), /is a folder/));
});

test('an oversized chat template is refused before it is read', async () => {
  const checkpoint = await replaced('huge-template', 'chat_template.jinja', async (path) => writeFile(path, Buffer.alloc(2 * 1024 * 1024, 0x20)));
  await assert.rejects(ModelTokenizer.load(checkpoint), oneLineNaming(join(checkpoint, 'chat_template.jinja'), /is 2\.1 MB, more than the 1\.0 MB/));
});

test('an empty tensor (a zero in its shape) is not an overlap', async () => {
  const header = {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    empty: { dtype: 'F32', shape: [0, 4], data_offsets: [4, 4] }, // points inside a: no bytes, so no overlap
    b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
  };
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  const file = join(dir, 'empty.safetensors');
  await writeFile(file, Buffer.concat([prefix, json, Buffer.alloc(16)]));
  const tensors = await readSafetensorsHeader(file);
  assert.deepEqual(tensors.map((t) => [t.name, t.byteLength]), [['a', 8], ['empty', 0], ['b', 8]]);
});

test('num_hidden_layers: 1e7 fails with one line naming the key, before any allocation', async () => {
  const checkpoint = await replaced('layers-1e7', 'config.json', async (path) => {
    const config = JSON.parse(await readFile(join(tiny, 'config.json'), 'utf8'));
    config.text_config.num_hidden_layers = 1e7;
    await writeFile(path, JSON.stringify(config));
  });
  const file = join(checkpoint, 'config.json');
  await assert.rejects(openCheckpoint(checkpoint), oneLineNaming(file, /imply 1\.10e\+8 tensors, more than the 100,000 .*text_config\.num_hidden_layers/));
});

test('config sizes beyond memory fail with one line naming the largest part', () => {
  const config = { text_config: { num_hidden_layers: 4, hidden_size: 1e6, intermediate_size: 1e6, vocab_size: 10, head_dim: 8 }, vision_config: { depth: 1, hidden_size: 8 } };
  assert.throws(() => checkConfigSize('/m/config.json', config, 24 * 2 ** 30),
    (e: Error) => e instanceof CheckpointError && /^\/m\/config\.json: the sizes imply at least 1\.20e\+13 parameters \(24000\.0 GB in bfloat16\), more than this machine's 25\.8 GB of memory \(largest part: text_config\.num_hidden_layers\)$/.test(e.message));
  const huge = { text_config: { max_position_embeddings: 1e15, head_dim: 256 } };
  assert.throws(() => checkConfigSize('/m/config.json', huge, 24 * 2 ** 30), /largest part: text_config\.max_position_embeddings/);
  // The real Qwen3.5-2B sizes fit a 16 GB machine.
  const qwen = { text_config: { num_hidden_layers: 24, hidden_size: 2048, intermediate_size: 6144, vocab_size: 248320, max_position_embeddings: 262144, head_dim: 256 }, vision_config: { depth: 24, hidden_size: 1024, intermediate_size: 4096, num_position_embeddings: 2304 } };
  checkConfigSize('/m/config.json', qwen, 16e9);
});
