/**
 * Frame resizing on worker threads, so that resizing a 1080p frame (~40 ms in JavaScript)
 * runs beside ffmpeg's decoding and beside other frames instead of after them.
 */
import { cpus } from 'node:os';
import { WorkerPool } from '../io/workerPool';
import type { ResizeReply, ResizeRequest } from './resizeWorker';

export class ResizePool {
  private readonly pool: WorkerPool<Omit<ResizeRequest, 'id'>, Extract<ResizeReply, { rgb: Uint8Array }>>;

  constructor(size = Math.max(1, Math.min(cpus().length, 8))) {
    this.pool = new WorkerPool(__dirname, 'resizeWorker', size);
  }

  /** Resizes one frame; its buffer is transferred to the worker (do not use it afterwards). */
  async resize(rgb: Uint8Array, inWidth: number, inHeight: number, outWidth: number, outHeight: number): Promise<Uint8Array> {
    return (await this.pool.run({ rgb, inWidth, inHeight, outWidth, outHeight }, [rgb.buffer as ArrayBuffer])).rgb;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
