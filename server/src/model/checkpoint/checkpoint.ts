/**
 * A Hugging Face checkpoint folder: config.json, single or sharded safetensors (with
 * model.safetensors.index.json), tokenizer and generation files. Opening it reads only
 * headers; every tensor the model needs is checked for presence, shape and dtype up front,
 * so a wrong checkpoint fails before any weights are read.
 */
import { lstat, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type ModelConfig, readModelConfig } from './config';
import { CheckpointError, type Dtype, readSafetensorsHeader, type TensorInfo } from './safetensors';

export interface ExpectedTensor {
  name: string;
  shape: number[];
}

const TEXT = 'model.language_model';
const VISION = 'model.visual';

/** Every tensor a Qwen3.5 checkpoint holds for this config, with its shape (HF names). */
export function expectedTensors(config: ModelConfig): ExpectedTensor[] {
  const t = config.text;
  const v = config.vision;
  const out: ExpectedTensor[] = [
    { name: `${TEXT}.embed_tokens.weight`, shape: [t.vocabSize, t.hiddenSize] },
    { name: `${TEXT}.norm.weight`, shape: [t.hiddenSize] },
  ];
  if (!t.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [t.vocabSize, t.hiddenSize] });
  const keyDim = t.linearNumKeyHeads * t.linearKeyHeadDim;
  const valueDim = t.linearNumValueHeads * t.linearValueHeadDim;
  t.layerTypes.forEach((type, i) => {
    const p = `${TEXT}.layers.${i}`;
    out.push(
      { name: `${p}.input_layernorm.weight`, shape: [t.hiddenSize] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [t.hiddenSize] },
      { name: `${p}.mlp.gate_proj.weight`, shape: [t.intermediateSize, t.hiddenSize] },
      { name: `${p}.mlp.up_proj.weight`, shape: [t.intermediateSize, t.hiddenSize] },
      { name: `${p}.mlp.down_proj.weight`, shape: [t.hiddenSize, t.intermediateSize] },
    );
    if (type === 'full_attention') {
      out.push(
        // q_proj yields, per head, the query then its output gate.
        { name: `${p}.self_attn.q_proj.weight`, shape: [t.numAttentionHeads * t.headDim * 2, t.hiddenSize] },
        { name: `${p}.self_attn.k_proj.weight`, shape: [t.numKeyValueHeads * t.headDim, t.hiddenSize] },
        { name: `${p}.self_attn.v_proj.weight`, shape: [t.numKeyValueHeads * t.headDim, t.hiddenSize] },
        { name: `${p}.self_attn.o_proj.weight`, shape: [t.hiddenSize, t.numAttentionHeads * t.headDim] },
        { name: `${p}.self_attn.q_norm.weight`, shape: [t.headDim] },
        { name: `${p}.self_attn.k_norm.weight`, shape: [t.headDim] },
      );
    } else {
      out.push(
        { name: `${p}.linear_attn.in_proj_qkv.weight`, shape: [keyDim * 2 + valueDim, t.hiddenSize] },
        { name: `${p}.linear_attn.in_proj_z.weight`, shape: [valueDim, t.hiddenSize] },
        { name: `${p}.linear_attn.in_proj_b.weight`, shape: [t.linearNumValueHeads, t.hiddenSize] },
        { name: `${p}.linear_attn.in_proj_a.weight`, shape: [t.linearNumValueHeads, t.hiddenSize] },
        { name: `${p}.linear_attn.conv1d.weight`, shape: [keyDim * 2 + valueDim, 1, t.linearConvKernel] },
        { name: `${p}.linear_attn.dt_bias`, shape: [t.linearNumValueHeads] },
        { name: `${p}.linear_attn.A_log`, shape: [t.linearNumValueHeads] },
        { name: `${p}.linear_attn.norm.weight`, shape: [t.linearValueHeadDim] },
        { name: `${p}.linear_attn.out_proj.weight`, shape: [t.hiddenSize, valueDim] },
      );
    }
  });
  const merged = v.hiddenSize * v.spatialMergeSize ** 2;
  out.push(
    { name: `${VISION}.patch_embed.proj.weight`, shape: [v.hiddenSize, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize] },
    { name: `${VISION}.patch_embed.proj.bias`, shape: [v.hiddenSize] },
    { name: `${VISION}.pos_embed.weight`, shape: [v.numPositionEmbeddings, v.hiddenSize] },
    { name: `${VISION}.merger.norm.weight`, shape: [v.hiddenSize] },
    { name: `${VISION}.merger.norm.bias`, shape: [v.hiddenSize] },
    { name: `${VISION}.merger.linear_fc1.weight`, shape: [merged, merged] },
    { name: `${VISION}.merger.linear_fc1.bias`, shape: [merged] },
    { name: `${VISION}.merger.linear_fc2.weight`, shape: [v.outHiddenSize, merged] },
    { name: `${VISION}.merger.linear_fc2.bias`, shape: [v.outHiddenSize] },
  );
  for (let i = 0; i < v.depth; i++) {
    const p = `${VISION}.blocks.${i}`;
    out.push(
      { name: `${p}.norm1.weight`, shape: [v.hiddenSize] },
      { name: `${p}.norm1.bias`, shape: [v.hiddenSize] },
      { name: `${p}.norm2.weight`, shape: [v.hiddenSize] },
      { name: `${p}.norm2.bias`, shape: [v.hiddenSize] },
      { name: `${p}.attn.qkv.weight`, shape: [v.hiddenSize * 3, v.hiddenSize] },
      { name: `${p}.attn.qkv.bias`, shape: [v.hiddenSize * 3] },
      { name: `${p}.attn.proj.weight`, shape: [v.hiddenSize, v.hiddenSize] },
      { name: `${p}.attn.proj.bias`, shape: [v.hiddenSize] },
      { name: `${p}.mlp.linear_fc1.weight`, shape: [v.intermediateSize, v.hiddenSize] },
      { name: `${p}.mlp.linear_fc1.bias`, shape: [v.intermediateSize] },
      { name: `${p}.mlp.linear_fc2.weight`, shape: [v.hiddenSize, v.intermediateSize] },
      { name: `${p}.mlp.linear_fc2.bias`, shape: [v.hiddenSize] },
    );
  }
  return out;
}

const FLOAT_DTYPES: readonly Dtype[] = ['BF16', 'F16', 'F32'];

export interface Checkpoint {
  dir: string;
  config: ModelConfig;
  /** Every tensor found, by name (including ones the engine does not use). */
  tensors: Map<string, TensorInfo>;
  /** Weight files and their sizes. */
  files: { path: string; bytes: number }[];
}

/**
 * A shard name from the index must be a plain file name inside the folder (no `../x`, no
 * sub-path). The entry itself may be a symlink — a Hugging Face cache snapshot links each
 * file into `blobs/` — as long as it leads to a regular file (checked in `regularFileSize`).
 */
function safeShardName(indexFile: string, name: unknown): string {
  if (typeof name !== 'string' || !name || name !== basename(name) || name === '.' || name === '..' || !name.endsWith('.safetensors')) {
    throw new CheckpointError(`${indexFile}: weight_map names ${JSON.stringify(name)}, not a .safetensors file in the checkpoint folder`);
  }
  return name;
}

async function weightFiles(dir: string): Promise<{ files: string[]; expectedIn?: Map<string, string> }> {
  const indexFile = join(dir, 'model.safetensors.index.json');
  let indexText: string | undefined;
  try {
    indexText = await readFile(indexFile, 'utf8');
  } catch {
    indexText = undefined;
  }
  if (indexText === undefined) {
    const single = join(dir, 'model.safetensors');
    try {
      await lstat(single); // a dangling link counts as present: regularFileSize names it
    } catch {
      throw new CheckpointError(`${dir}: no model.safetensors and no model.safetensors.index.json`);
    }
    return { files: [single] };
  }
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(indexText) as { weight_map?: unknown };
  } catch (error) {
    throw new CheckpointError(`${indexFile}: not valid JSON (${(error as Error).message})`);
  }
  if (!index.weight_map || typeof index.weight_map !== 'object') throw new CheckpointError(`${indexFile}: no weight_map`);
  const expectedIn = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(index.weight_map as Record<string, unknown>)) {
    expectedIn.set(tensor, join(dir, safeShardName(indexFile, shard)));
  }
  return { files: [...new Set(expectedIn.values())].sort(), expectedIn };
}

/** The size of a weight file, following symlinks; a link to a folder or to nothing fails naming the file. */
async function regularFileSize(file: string): Promise<number> {
  let info;
  try {
    info = await stat(file);
  } catch {
    throw new CheckpointError(`${file}: missing (or a symlink to a file that does not exist)`);
  }
  if (!info.isFile()) throw new CheckpointError(`${file}: not a regular file`);
  return info.size;
}

export async function openCheckpoint(dir: string): Promise<Checkpoint> {
  const config = await readModelConfig(dir);
  const { files, expectedIn } = await weightFiles(dir);
  const tensors = new Map<string, TensorInfo>();
  const sizes: { path: string; bytes: number }[] = [];
  for (const file of files) {
    const bytes = await regularFileSize(file);
    for (const info of await readSafetensorsHeader(file)) {
      if (tensors.has(info.name)) throw new CheckpointError(`${file}: tensor ${info.name} also appears in ${tensors.get(info.name)!.file}`);
      tensors.set(info.name, info);
    }
    sizes.push({ path: file, bytes });
  }
  if (expectedIn) {
    for (const [name, file] of expectedIn) {
      const found = tensors.get(name);
      if (!found) throw new CheckpointError(`${file}: tensor ${name} listed in the index is missing`);
      if (found.file !== file) throw new CheckpointError(`${found.file}: tensor ${name} is listed in the index under ${basename(file)}`);
    }
  }
  for (const expected of expectedTensors(config)) {
    const found = tensors.get(expected.name);
    if (!found) throw new CheckpointError(`${dir}: tensor ${expected.name} is missing`);
    if (found.shape.join(',') !== expected.shape.join(',')) {
      throw new CheckpointError(`${found.file}: tensor ${expected.name} has shape [${found.shape}], config.json implies [${expected.shape}]`);
    }
    if (!FLOAT_DTYPES.includes(found.dtype)) throw new CheckpointError(`${found.file}: tensor ${expected.name} is ${found.dtype}; expected BF16, F16 or F32`);
  }
  return { dir, config, tensors, files: sizes };
}
