/**
 * The size a config.json implies, checked before anything is allocated for it. A config
 * is untrusted input: `num_hidden_layers: 1e7` would otherwise build tens of millions of
 * expected-tensor records and run out of memory after a minute instead of failing with a
 * line that names the key. Estimates are lower bounds in plain arithmetic (no allocation).
 */
import { totalmem } from 'node:os';
import { describeBytes } from '../../io/regularFile';
import { CheckpointError } from './safetensors';

/** More tensors than this is no checkpoint we run (Qwen3.5-2B has about 900). */
export const MAX_TENSORS = 100_000;

/** A positive finite number at `key`, or 1 (the reader reports wrong types with its own message later). */
function dim(object: unknown, key: string): number {
  const value = object && typeof object === 'object' ? (object as Record<string, unknown>)[key] : undefined;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 1;
}

/** Parameters and tensors a config implies, at least. */
export function estimateConfigSize(json: Record<string, unknown>): { parameters: number; tensors: number; largestKey: string } {
  const t = json.text_config;
  const v = json.vision_config;
  const layers = dim(t, 'num_hidden_layers');
  const hidden = dim(t, 'hidden_size');
  const textLayer = 3 * hidden * dim(t, 'intermediate_size') + 2 * hidden; // the MLP and norms every layer has
  const depth = dim(v, 'depth');
  const visionHidden = dim(v, 'hidden_size');
  const visionLayer = 4 * visionHidden * visionHidden + 2 * visionHidden * dim(v, 'intermediate_size');
  const parts: [string, number][] = [
    ['text_config.num_hidden_layers', layers * textLayer],
    ['text_config.vocab_size', dim(t, 'vocab_size') * hidden],
    // The rotary tables are built for every position up to max_position_embeddings.
    ['text_config.max_position_embeddings', dim(t, 'max_position_embeddings') * dim(t, 'head_dim')],
    ['vision_config.depth', depth * visionLayer],
    ['vision_config.num_position_embeddings', dim(v, 'num_position_embeddings') * visionHidden],
  ];
  const largest = parts.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { parameters: parts.reduce((sum, [, n]) => sum + n, 0), tensors: layers * 11 + depth * 12 + 11, largestKey: largest[0] };
}

/** Throws a one-line CheckpointError when the config cannot fit this machine's memory (or any sane model). */
export function checkConfigSize(file: string, json: Record<string, unknown>, memoryBytes = totalmem()): void {
  const { parameters, tensors, largestKey } = estimateConfigSize(json);
  if (tensors > MAX_TENSORS) {
    throw new CheckpointError(`${file}: the layer counts imply ${tensors.toExponential(2)} tensors, more than the ${MAX_TENSORS.toLocaleString('en-US')} a checkpoint may have (check ${largestKey.startsWith('vision') ? 'vision_config.depth' : 'text_config.num_hidden_layers'})`);
  }
  const bytes = parameters * 2; // bfloat16, the smallest the engine holds weights in
  if (bytes > memoryBytes) {
    throw new CheckpointError(`${file}: the sizes imply at least ${parameters.toExponential(2)} parameters (${describeBytes(bytes)} in bfloat16), more than this machine's ${describeBytes(memoryBytes)} of memory (largest part: ${largestKey})`);
  }
}
