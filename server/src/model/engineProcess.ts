/**
 * The engine process (dist/engine.js): loads a checkpoint and generates on request from
 * its parent over Node's IPC channel. Run in its own process so that inference never
 * blocks the language server and a native crash cannot take the server down.
 */
import { CancelledError, TextEngine } from './engine';
import type { FromEngine, ToEngine } from './engineProtocol';

let engine: TextEngine | undefined;
const cancelled = new Map<number, AbortController>();

function send(message: FromEngine): void {
  process.send?.(message);
}

async function handle(message: ToEngine): Promise<void> {
  switch (message.type) {
    case 'cancel':
      cancelled.get(message.target)?.abort();
      return;
    case 'load':
      engine = await TextEngine.load(message.dir, message.options);
      send({ type: 'loaded', id: message.id, report: engine.report });
      return;
    case 'encodeChat':
      if (!engine) throw new Error('no model loaded');
      send({ type: 'encoded', id: message.id, ids: engine.tokenizer.encode(engine.tokenizer.renderChat([{ role: 'user', content: message.prompt }])) });
      return;
    case 'generate': {
      if (!engine) throw new Error('no model loaded');
      const controller = new AbortController();
      cancelled.set(message.id, controller);
      try {
        const { visual, ...options } = message.options;
        const result = await engine.generate(message.promptIds, {
          ...options,
          visual: visual && { embeds: Float32Array.from(visual.embeds), index: visual.index },
          signal: controller.signal,
          onToken: (token, text) => send({ type: 'token', id: message.id, token, text }),
        });
        send({ type: 'done', id: message.id, result });
      } finally {
        cancelled.delete(message.id);
      }
      return;
    }
  }
}

process.on('message', (message: ToEngine) => {
  handle(message).catch((error: unknown) => {
    if (message.type === 'cancel') return;
    send({ type: 'error', id: message.id, message: error instanceof Error ? error.message : String(error), cancelled: error instanceof CancelledError });
  });
});

// The parent going away ends us (no orphaned engines holding GPU memory).
process.on('disconnect', () => process.exit(0));
