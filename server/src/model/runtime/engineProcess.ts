/**
 * The engine process (dist/engine.js): loads a checkpoint and generates on request from
 * its parent over Node's IPC channel. Run in its own process so that inference never
 * blocks the language server and a native crash cannot take the server down.
 */
// First: decides which ONNX Runtime binary onnxruntime-node loads (CUDA providers when installed).
import './preferInstalledRuntime';
import { type TaskProgress, VideoModel } from '../../tasks/videoTasks';
import { CancelledError, type TextEngine } from './engine';
import type { FromEngine, ToEngine } from './engineProtocol';
import { endToolsOnTermination } from '../../video/tools';

let model: VideoModel | undefined;
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
      model = await VideoModel.load(message.dir, { ...message.options, onLoadProgress: (stage, detail) => send({ type: 'loadProgress', id: message.id, stage, detail }) });
      engine = model.text;
      send({ type: 'loaded', id: message.id, report: engine.report });
      return;
    case 'videoTask': {
      if (!model) throw new Error('no model loaded');
      const controller = new AbortController();
      cancelled.set(message.id, controller);
      const { request } = message;
      try {
        const options = {
          sampling: request.sampling,
          maxNewTokens: request.maxNewTokens,
          prompt: request.prompt,
          ffmpegPath: request.ffmpegPath,
          ffprobePath: request.ffprobePath,
          pipeline: request.pipeline,
          signal: controller.signal,
          onProgress: (progress: TaskProgress) => send({ type: 'progress', id: message.id, progress }),
          onText: (text: string) => send({ type: 'token', id: message.id, token: -1, text }),
        };
        const long = { window: request.window, overlap: request.overlap };
        if (request.task === 'caption') {
          const { windows, merged, format_ok, raw } = await model.captionLong(request.video, { ...options, ...long });
          send({ type: 'taskDone', id: message.id, result: { task: 'caption', windows, merged, format_ok, raw } });
        } else {
          const result = request.within
            ? await model.findWithin(request.video, request.query ?? '', request.within, options)
            : await model.findLong(request.video, request.query ?? '', { ...options, ...long });
          send({ type: 'taskDone', id: message.id, result: { task: 'find', ...result } });
        }
      } finally {
        cancelled.delete(message.id);
      }
      return;
    }
    case 'encodeChat':
      if (!engine) throw new Error('no model loaded');
      send({ type: 'encoded', id: message.id, ids: engine.tokenizer.encode(await engine.tokenizer.renderChat([{ role: 'user', content: message.prompt }])) });
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
    const text = error instanceof Error ? error.message : String(error);
    send({ type: 'error', id: message.id, message: text, cancelled: error instanceof CancelledError || /cancelled/.test(text) });
  });
});

// The parent going away ends us (no orphaned engines holding GPU memory), and a kill
// (SIGTERM from the host) ends the ffmpeg decoding for us too.
process.on('disconnect', () => process.exit(0));
endToolsOnTermination();
