/**
 * A small byte-level BPE tokenizer in the Hugging Face tokenizer.json format, trained
 * deterministically on a built-in text, carrying the Qwen special tokens. Only for the
 * tiny test checkpoint: it exercises the same loading code as the real one.
 */

/** GPT-2's byte ↔ printable-character table used by byte-level BPE. */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

/** Qwen's pre-tokenizer split (without the inline case-insensitive group, which JS lacks). */
export const SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export const SPECIAL_TOKENS = [
  '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|object_ref_start|>', '<|object_ref_end|>', '<|box_start|>', '<|box_end|>',
  '<|quad_start|>', '<|quad_end|>', '<|vision_start|>', '<|vision_end|>', '<|vision_pad|>', '<|image_pad|>', '<|video_pad|>',
];

/** Plain (non-special) added tokens of the Qwen vocabulary. */
export const ADDED_TOKENS = ['<think>', '</think>'];

const CORPUS = `Scene: A person walks into a kitchen and opens the fridge. Events:
<0.0 - 2.5> the person opens the fridge <2.5 - 4.0> takes out two eggs
Describe the video. Find the event in the video. From 14.3 to 18.2 seconds.
The quick brown fox jumps over the lazy dog while the camera pans slowly to the left.
<think> </think> user assistant system seconds video event scene the a of and to in is`;

export interface TinyTokenizer {
  tokenizerJson: Record<string, unknown>;
  /** Token id of each special and added token. */
  ids: Record<string, number>;
  vocabSize: number;
}

export function buildTinyTokenizer(merges = 240): TinyTokenizer {
  const table = byteToUnicode();
  const toUnicode = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => table[b]).join('');
  const vocab = new Map<string, number>(table.map((c, i) => [c, i]));
  const split = new RegExp(SPLIT_PATTERN, 'gu');
  const words = new Map<string, number>();
  for (const piece of CORPUS.match(split) ?? []) {
    const word = toUnicode(piece);
    words.set(word, (words.get(word) ?? 0) + 1);
  }
  let segmented = [...words].map(([word, count]) => ({ parts: [...word], count }));
  const mergeList: string[] = [];
  for (let m = 0; m < merges; m++) {
    const pairs = new Map<string, number>();
    for (const { parts, count } of segmented) {
      for (let i = 0; i + 1 < parts.length; i++) {
        const key = `${parts[i]} ${parts[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    if (!pairs.size) break;
    // Most frequent pair; ties broken by the pair's text so the result is deterministic.
    const [best] = [...pairs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    const [left, right] = best.split(' ');
    mergeList.push(best);
    vocab.set(left + right, vocab.size);
    segmented = segmented.map(({ parts, count }) => {
      const next: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i + 1 < parts.length && parts[i] === left && parts[i + 1] === right) {
          next.push(left + right);
          i++;
        } else next.push(parts[i]);
      }
      return { parts: next, count };
    });
  }
  const ids: Record<string, number> = {};
  const added = [...SPECIAL_TOKENS, ...ADDED_TOKENS].map((content) => {
    ids[content] = vocab.size + Object.keys(ids).length;
    return { id: ids[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: SPECIAL_TOKENS.includes(content) };
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    ids,
    vocabSize: vocab.size + added.length,
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: added,
      normalizer: { type: 'NFC' },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: SPLIT_PATTERN }, behavior: 'Isolated', invert: false }, byteLevel] },
      post_processor: byteLevel,
      decoder: byteLevel,
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false,
        byte_fallback: false, ignore_merges: false, vocab: Object.fromEntries(vocab), merges: mergeList,
      },
    },
  };
}

/** A compact chat template in the Qwen style: text, image and video content parts. */
export const TINY_CHAT_TEMPLATE = `{%- for message in messages -%}
{{- '<|im_start|>' + message.role + '\\n' -}}
{%- if message.content is string -%}
{{- message.content -}}
{%- else -%}
{%- for part in message.content -%}
{%- if part.type == 'video' -%}{{- '<|vision_start|><|video_pad|><|vision_end|>' -}}
{%- elif part.type == 'image' -%}{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}
{%- else -%}{{- part.text -}}{%- endif -%}
{%- endfor -%}
{%- endif -%}
{{- '<|im_end|>\\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}`;
