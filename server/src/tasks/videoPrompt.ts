/**
 * The video prompt, as the Hugging Face Qwen3.5 processor builds it: the chat template
 * renders a video item as `<|vision_start|><|video_pad|><|vision_end|>`, which is replaced,
 * per frame pair i, by `<t_i seconds><|vision_start|>` + `<|video_pad|>` × (gh·gw/4) +
 * `<|vision_end|>`; and the 3-D position ids of get_rope_index: text advances all three
 * streams; a frame pair's block starting at p gets T = p, H = p + row, W = p + col over the
 * merged grid, and the next position is p + max(gh, gw)/2.
 */
import type { ModelConfig } from '../model/checkpoint/config';
import type { ModelTokenizer } from '../model/checkpoint/tokenizer';
import type { FramePlan } from '../video/plan';

export interface VideoPrompt {
  text: string;
  ids: number[];
  /** [3][ids.length] */
  positions: number[][];
  /** Decode positions are past length + ropeDelta. */
  ropeDelta: number;
  /** Token indices of the video placeholders, in order (where vision features go). */
  videoPadIndex: number[];
}

const VIDEO_ITEM = '<|vision_start|><|video_pad|><|vision_end|>';

export function expandVideoPlaceholder(rendered: string, plan: FramePlan, merge: number): string {
  const perPair = (plan.gridThw[1] * plan.gridThw[2]) / (merge * merge);
  const expanded = plan.timestampText.map((stamp) => `${stamp}<|vision_start|>${'<|video_pad|>'.repeat(perPair)}<|vision_end|>`).join('');
  const at = rendered.indexOf(VIDEO_ITEM);
  if (at < 0) throw new Error('the chat template did not render the video item as <|vision_start|><|video_pad|><|vision_end|>');
  return rendered.slice(0, at) + expanded + rendered.slice(at + VIDEO_ITEM.length);
}

/** get_rope_index for one video: 3-D positions and the decode delta. */
export function ropeIndex(ids: readonly number[], videoTokenId: number, gridThw: [number, number, number], merge: number): { positions: number[][]; ropeDelta: number } {
  const rows = gridThw[1] / merge;
  const cols = gridThw[2] / merge;
  const perPair = rows * cols;
  const T: number[] = [];
  const H: number[] = [];
  const W: number[] = [];
  let next = 0;
  let max = -1;
  for (let i = 0; i < ids.length;) {
    if (ids[i] === videoTokenId) {
      const start = next;
      for (let k = 0; k < perPair; k++, i++) {
        if (ids[i] !== videoTokenId) throw new Error(`a frame pair has fewer than ${perPair} video tokens at position ${i}`);
        T.push(start);
        H.push(start + Math.floor(k / cols));
        W.push(start + (k % cols));
      }
      max = Math.max(max, start + rows - 1, start + cols - 1);
      next = start + Math.max(rows, cols);
    } else {
      T.push(next);
      H.push(next);
      W.push(next);
      max = Math.max(max, next);
      next++;
      i++;
    }
  }
  return { positions: [T, H, W], ropeDelta: max + 1 - ids.length };
}

export async function buildVideoPrompt(tokenizer: ModelTokenizer, config: ModelConfig, plan: FramePlan, instruction: string, signal?: AbortSignal): Promise<VideoPrompt> {
  const rendered = await tokenizer.renderChat([{ role: 'user', content: [{ type: 'video' }, { type: 'text', text: instruction }] }], { signal });
  const text = expandVideoPlaceholder(rendered, plan, config.vision.spatialMergeSize);
  const ids = tokenizer.encode(text);
  const { positions, ropeDelta } = ropeIndex(ids, config.videoTokenId, plan.gridThw, config.vision.spatialMergeSize);
  const videoPadIndex: number[] = [];
  ids.forEach((id, i) => { if (id === config.videoTokenId) videoPadIndex.push(i); });
  if (videoPadIndex.length !== plan.visualTokens) throw new Error(`the prompt has ${videoPadIndex.length} video tokens, the plan ${plan.visualTokens}`);
  return { text, ids, positions, ropeDelta, videoPadIndex };
}
