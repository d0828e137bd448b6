/**
 * A fixed set of worker threads running one script, answering requests in any order: each
 * request carries an id, each reply names it (`{id, ...}`, or `{id, error}` for a failure).
 * Work goes to the workers in turn; a worker that crashes fails every request in flight.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts `name`: the bundled `name.js` in `dir` (beside dist/server.js, dist/cli.js and
 * dist/engine.js); when running from the TypeScript sources (tests, benchmarks under tsx),
 * `name.ts` through tsx's loader.
 */
function startWorker(dir: string, name: string): Worker {
  const built = join(dir, `${name}.js`);
  if (existsSync(built)) return new Worker(built);
  const source = join(dir, `${name}.ts`);
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
}

export class WorkerPool<Request extends object, Reply extends object> {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private nextWorker = 0;

  /** `dir` and `name`: the worker script (startWorker); `size` workers. */
  constructor(dir: string, name: string, readonly size: number) {
    for (let i = 0; i < size; i++) {
      const worker = startWorker(dir, name);
      worker.on('message', (reply: Reply & { id: number; error?: string }) => {
        const waiter = this.pending.get(reply.id);
        if (!waiter) return;
        this.pending.delete(reply.id);
        if (typeof reply.error === 'string') waiter.reject(new Error(reply.error));
        else waiter.resolve(reply);
      });
      worker.on('error', (error) => this.failAll(error));
      this.workers.push(worker);
    }
  }

  /** Sends `request` (with its id) to the next worker; `transfer`: buffers moved, not copied (do not use them afterwards). */
  run(request: Request, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id }, transfer);
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
