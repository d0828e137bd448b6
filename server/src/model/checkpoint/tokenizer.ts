/**
 * The checkpoint's own tokenizer (tokenizer.json through @huggingface/tokenizers) and chat
 * template (chat_template.jinja or tokenizer_config.json's, through @huggingface/jinja).
 */
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { readJsonObject } from '../../io/json';
import { readRegularFile } from '../../io/regularFile';
import { CheckpointError } from './safetensors';
import { DEFAULT_TEMPLATE_LIMITS, renderTemplateBounded, TemplateCancelledError, type TemplateLimits } from './templateRender';

export type ContentPart = { type: 'text'; text: string } | { type: 'video' } | { type: 'image' };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string | ContentPart[];
}

/** Chat templates are a few kB (Qwen3.5's is 7 kB); a larger one is refused before reading. */
const MAX_TEMPLATE_BYTES = 1024 * 1024;

async function readJson(file: string): Promise<Record<string, unknown>> {
  const value = await readJsonObject(file, (message) => new CheckpointError(message));
  if (!value) throw new CheckpointError(`${file}: missing`);
  return value;
}

export class ModelTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    /** The template's text: it is parsed here to fail early, and rendered on a bounded worker. */
    private readonly templateText: string,
    /** Where the template came from (for messages). */
    readonly templateSource: string,
  ) {}

  /** Bounds on each render; tests lower them. */
  templateLimits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS;

  static async load(dir: string): Promise<ModelTokenizer> {
    const tokenizerJson = await readJson(join(dir, 'tokenizer.json'));
    const tokenizerConfig = await readJson(join(dir, 'tokenizer_config.json'));
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new CheckpointError(`${join(dir, 'tokenizer.json')}: cannot build the tokenizer (${(error as Error).message})`);
    }
    let source = join(dir, 'chat_template.jinja');
    let templateText = (await readRegularFile(source, MAX_TEMPLATE_BYTES, (message) => new CheckpointError(message)))?.toString('utf8');
    if (templateText === undefined) {
      source = join(dir, 'tokenizer_config.json');
      templateText = typeof tokenizerConfig.chat_template === 'string' ? tokenizerConfig.chat_template : undefined;
    }
    if (!templateText) throw new CheckpointError(`${dir}: no chat template (chat_template.jinja or tokenizer_config.json's chat_template)`);
    if (templateText.length > MAX_TEMPLATE_BYTES) throw new CheckpointError(`${source}: the chat template is ${templateText.length} characters, more than the ${MAX_TEMPLATE_BYTES} a template may be`);
    try {
      new Template(templateText); // parsing is linear in the (size-capped) text; rendering is what can run away
    } catch (error) {
      throw new CheckpointError(`${source}: the chat template does not parse (${(error as Error).message})`);
    }
    return new ModelTokenizer(tokenizer, templateText, source);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[], skipSpecialTokens = false): string {
    if (!ids.length) return ''; // tokenizers.js refuses an empty list
    return this.tokenizer.decode([...ids], { skip_special_tokens: skipSpecialTokens });
  }

  tokenId(token: string): number {
    const id = this.tokenizer.token_to_id(token);
    if (id === undefined) throw new CheckpointError(`the tokenizer has no token ${token}`);
    return id;
  }

  /**
   * The prompt text for a conversation, rendered by the checkpoint's own template within
   * `templateLimits` (time, memory, length) and stopped at once by `signal`.
   */
  async renderChat(messages: ChatMessage[], options: { addGenerationPrompt?: boolean; signal?: AbortSignal } = {}): Promise<string> {
    try {
      return await renderTemplateBounded(this.templateText, { messages, add_generation_prompt: options.addGenerationPrompt ?? true }, options.signal, this.templateLimits);
    } catch (error) {
      if (error instanceof TemplateCancelledError) throw error;
      throw new CheckpointError(`${this.templateSource}: rendering the chat template failed (${(error as Error).message})`);
    }
  }
}

/** Removes the leading `<think>…</think>` block (or a bare `<think>`) the model starts with. */
export function stripThink(text: string): string {
  const trimmed = text.replace(/^\s+/, '');
  if (!trimmed.startsWith('<think>')) return text;
  const close = trimmed.indexOf('</think>');
  return (close >= 0 ? trimmed.slice(close + '</think>'.length) : trimmed.slice('<think>'.length)).replace(/^\s+/, '');
}
