/**
 * Worker thread body for bounded chat-template rendering (templateRender.ts). A template
 * is code from the checkpoint: it runs here, where the parent can stop it at a deadline,
 * on a cancel, or when it outgrows its heap, without blocking the engine's own thread.
 */
import { parentPort } from 'node:worker_threads';
import { Template } from '@huggingface/jinja';

/** What the parent sends: the template text, the variables, and the largest answer it accepts. */
export interface TemplateRenderRequest {
  source: string;
  context: Record<string, unknown>;
  maxChars: number;
}

export type TemplateRenderReply = { text: string } | { error: string };

parentPort?.once('message', (request: TemplateRenderRequest) => {
  let reply: TemplateRenderReply;
  try {
    const text = new Template(request.source).render(request.context);
    reply = text.length > request.maxChars
      ? { error: `it rendered ${text.length.toLocaleString('en-US')} characters, more than the ${request.maxChars.toLocaleString('en-US')} a prompt may be` }
      : { text };
  } catch (error) {
    reply = { error: (error as Error).message };
  }
  parentPort!.postMessage(reply);
});
