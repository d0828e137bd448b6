/**
 * The model configuration, read from a checkpoint's config.json and checked: every number
 * the engine needs is read from here (never hard-coded), and anything missing, mistyped or
 * unsupported fails with a message naming the file and the key.
 */
import { join } from 'node:path';
import { readJsonObject } from '../../io/json';
import { checkConfigSize } from './configSize';
import { CheckpointError } from './safetensors';

export type LayerType = 'linear_attention' | 'full_attention';

export interface TextConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  layerTypes: LayerType[];
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  partialRotaryFactor: number;
  mropeSection: [number, number, number];
  mropeInterleaved: boolean;
  /** Positions beyond this have no rotary table row (the tables are built up to it). */
  maxPositionEmbeddings: number;
  linearNumKeyHeads: number;
  linearNumValueHeads: number;
  linearKeyHeadDim: number;
  linearValueHeadDim: number;
  linearConvKernel: number;
  tieWordEmbeddings: boolean;
}

export interface VisionConfig {
  depth: number;
  hiddenSize: number;
  intermediateSize: number;
  numHeads: number;
  inChannels: number;
  patchSize: number;
  temporalPatchSize: number;
  spatialMergeSize: number;
  outHiddenSize: number;
  numPositionEmbeddings: number;
}

export interface ModelConfig {
  modelType: 'qwen3_5';
  text: TextConfig;
  vision: VisionConfig;
  imageTokenId: number;
  videoTokenId: number;
  visionStartTokenId: number;
  visionEndTokenId: number;
}

export const SUPPORTED_MODEL_TYPES = ['qwen3_5'];

class Reader {
  constructor(private readonly file: string, private readonly where: string, private readonly object: Record<string, unknown>) {}

  private fail(key: string, expected: string): never {
    throw new CheckpointError(`${this.file}: ${this.where}${key} must be ${expected}, got ${JSON.stringify(this.object[key])}`);
  }

  int(key: string, fallback?: number): number {
    const value = this.object[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) this.fail(key, 'a positive integer');
    return value;
  }

  number(key: string, fallback?: number): number {
    const value = this.object[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) this.fail(key, 'a positive number');
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.object[key] ?? fallback;
    if (typeof value !== 'boolean') this.fail(key, 'true or false');
    return value;
  }

  child(key: string): Reader {
    const value = this.object[key];
    if (!value || typeof value !== 'object' || Array.isArray(value)) this.fail(key, 'an object');
    return new Reader(this.file, `${this.where}${key}.`, value as Record<string, unknown>);
  }

  optionalChild(key: string): Reader {
    const value = this.object[key];
    return value && typeof value === 'object' && !Array.isArray(value)
      ? new Reader(this.file, `${this.where}${key}.`, value as Record<string, unknown>)
      : new Reader(this.file, `${this.where}${key}.`, {});
  }

  raw(key: string): unknown {
    return this.object[key];
  }

  failWith(key: string, expected: string): never {
    this.fail(key, expected);
  }
}

function readText(r: Reader): TextConfig {
  const numLayers = r.int('num_hidden_layers');
  const rawTypes = r.raw('layer_types');
  let layerTypes: LayerType[];
  if (rawTypes === undefined) {
    const interval = r.int('full_attention_interval', 4);
    layerTypes = Array.from({ length: numLayers }, (_, i) => ((i + 1) % interval ? 'linear_attention' : 'full_attention'));
  } else {
    if (!Array.isArray(rawTypes) || rawTypes.length !== numLayers || !rawTypes.every((t) => t === 'linear_attention' || t === 'full_attention')) {
      r.failWith('layer_types', `${numLayers} entries of "linear_attention" or "full_attention"`);
    }
    layerTypes = rawTypes as LayerType[];
  }
  const rope = r.optionalChild('rope_parameters');
  const section = rope.raw('mrope_section') ?? [11, 11, 10];
  if (!Array.isArray(section) || section.length !== 3 || !section.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    rope.failWith('mrope_section', 'three non-negative integers');
  }
  const headDim = r.int('head_dim');
  const partialRotaryFactor = rope.number('partial_rotary_factor', (r.raw('partial_rotary_factor') as number | undefined) ?? 0.25);
  const text: TextConfig = {
    vocabSize: r.int('vocab_size'),
    hiddenSize: r.int('hidden_size'),
    intermediateSize: r.int('intermediate_size'),
    numLayers,
    layerTypes,
    numAttentionHeads: r.int('num_attention_heads'),
    numKeyValueHeads: r.int('num_key_value_heads'),
    headDim,
    rmsNormEps: r.number('rms_norm_eps', 1e-6),
    ropeTheta: rope.number('rope_theta', (r.raw('rope_theta') as number | undefined) ?? 10_000_000),
    partialRotaryFactor,
    mropeSection: section as [number, number, number],
    mropeInterleaved: rope.bool('mrope_interleaved', true),
    // Absent: the Hugging Face config class's default (Qwen3.5 checkpoints give 262,144).
    maxPositionEmbeddings: r.int('max_position_embeddings', 32_768),
    linearNumKeyHeads: r.int('linear_num_key_heads'),
    linearNumValueHeads: r.int('linear_num_value_heads'),
    linearKeyHeadDim: r.int('linear_key_head_dim'),
    linearValueHeadDim: r.int('linear_value_head_dim'),
    linearConvKernel: r.int('linear_conv_kernel_dim', 4),
    tieWordEmbeddings: r.bool('tie_word_embeddings', false),
  };
  const rotary = Math.round(headDim * partialRotaryFactor);
  if ((section as number[]).reduce((a, b) => a + b, 0) * 2 !== rotary) {
    rope.failWith('mrope_section', `sections summing to half the rotary dimension (${rotary / 2})`);
  }
  if (text.numAttentionHeads % text.numKeyValueHeads !== 0) r.failWith('num_key_value_heads', `a divisor of num_attention_heads (${text.numAttentionHeads})`);
  if (text.linearNumValueHeads % text.linearNumKeyHeads !== 0) r.failWith('linear_num_key_heads', `a divisor of linear_num_value_heads (${text.linearNumValueHeads})`);
  return text;
}

function readVision(r: Reader): VisionConfig {
  return {
    depth: r.int('depth'),
    hiddenSize: r.int('hidden_size'),
    intermediateSize: r.int('intermediate_size'),
    numHeads: r.int('num_heads'),
    inChannels: r.int('in_channels', 3),
    patchSize: r.int('patch_size', 16),
    temporalPatchSize: r.int('temporal_patch_size', 2),
    spatialMergeSize: r.int('spatial_merge_size', 2),
    outHiddenSize: r.int('out_hidden_size'),
    numPositionEmbeddings: r.int('num_position_embeddings'),
  };
}

export async function readModelConfig(checkpointDir: string): Promise<ModelConfig> {
  const file = join(checkpointDir, 'config.json');
  const json = await readJsonObject(file, (message) => new CheckpointError(message));
  if (!json) throw new CheckpointError(`${file}: missing (is ${checkpointDir} a Hugging Face checkpoint folder?)`);
  checkConfigSize(file, json); // before anything is built from the sizes
  const root = new Reader(file, '', json);
  const modelType = root.raw('model_type');
  if (typeof modelType !== 'string' || !SUPPORTED_MODEL_TYPES.includes(modelType)) {
    throw new CheckpointError(`${file}: model_type ${JSON.stringify(modelType)} is not supported (supported: ${SUPPORTED_MODEL_TYPES.join(', ')})`);
  }
  const config: ModelConfig = {
    modelType: 'qwen3_5',
    text: readText(root.child('text_config')),
    vision: readVision(root.child('vision_config')),
    imageTokenId: root.int('image_token_id', 248056),
    videoTokenId: root.int('video_token_id', 248057),
    visionStartTokenId: root.int('vision_start_token_id', 248053),
    visionEndTokenId: root.int('vision_end_token_id', 248054),
  };
  if (config.vision.outHiddenSize !== config.text.hiddenSize) {
    throw new CheckpointError(`${file}: vision_config.out_hidden_size (${config.vision.outHiddenSize}) must equal text_config.hidden_size (${config.text.hiddenSize})`);
  }
  // The top level may carry tie_word_embeddings for the whole model.
  const topTie = root.raw('tie_word_embeddings');
  if (typeof topTie === 'boolean') config.text.tieWordEmbeddings = config.text.tieWordEmbeddings || topTie;
  return config;
}
