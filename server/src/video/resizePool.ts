/**
 * Frame resizing on worker threads, so that resizing a 1080p frame (~40 ms in JavaScript)
 * runs beside ffmpeg's decoding and beside other frames instead of after them.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ResizeReply, ResizeRequest } from './resizeWorker';

/**
 * The worker: the bundled script beside dist/server.js and dist/cli.js; when running from
 * the TypeScript sources (tests, benchmarks under tsx), the source through tsx's loader.
 */
function startWorker(): Worker {
  const built = join(__dirname, 'resizeWorker.js');
  if (existsSync(built)) return new Worker(built);
  const source = join(__dirname, 'resizeWorker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

export class ResizePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (rgb: Uint8Array) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private nextWorker = 0;

  constructor(size = Math.max(1, Math.min(cpus().length, 8))) {
    for (let i = 0; i < size; i++) {
      const worker = startWorker();
      worker.on('message', (reply: ResizeReply) => {
        const waiter = this.pending.get(reply.id);
        if (!waiter) return;
        this.pending.delete(reply.id);
        if ('error' in reply) waiter.reject(new Error(reply.error));
        else waiter.resolve(reply.rgb);
      });
      worker.on('error', (error) => this.failAll(error));
      this.workers.push(worker);
    }
  }

  /** Resizes one frame; its buffer is transferred to the worker (do not use it afterwards). */
  resize(rgb: Uint8Array, inWidth: number, inHeight: number, outWidth: number, outHeight: number): Promise<Uint8Array> {
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const request: ResizeRequest = { id, rgb, inWidth, inHeight, outWidth, outHeight };
      worker.postMessage(request, [rgb.buffer as ArrayBuffer]);
    });
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
