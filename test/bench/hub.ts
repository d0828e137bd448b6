/**
 * Model download throughput against the loopback mock Hub: our download (hash as it
 * arrives, progress, .incomplete then rename, snapshot link) against a bare fetch of the
 * same bytes to a file in the same run — the cost of the checks, not of any network.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { downloadSnapshot, planDownload } from '../../server/src/model/acquire/hubDownload';
import { startMockHub } from '../helpers/mockHub';
import { tempDir } from '../helpers/videos';
import { median, type Table } from './stats';

const MIB = 2 ** 20;

export async function benchHub(tables: Table[]): Promise<void> {
  const size = 256 * MIB;
  const dir = await tempDir('vscan-bench-hub-');
  const repoDir = join(dir, 'repo');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(repoDir);
  await writeFile(join(repoDir, 'config.json'), '{}');
  await writeFile(join(repoDir, 'model.safetensors'), randomBytes(size));
  const hub = await startMockHub([{ id: 'bench/model', dir: repoDir }]);
  try {
    const plan0 = await planDownload('bench/model', 'main', { endpoint: hub.url, cacheDir: join(dir, 'probe') });
    const weights = plan0.files.find((f) => f.path === 'model.safetensors')!;
    const bare: number[] = [];
    const ours: number[] = [];
    for (let run = 0; run < 4; run++) {
      const out = join(dir, `bare-${run}`);
      let started = performance.now();
      const response = await fetch(`${hub.url}/cdn/${weights.etag}`);
      await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(out));
      const bareMs = performance.now() - started;
      await rm(out);
      const cacheDir = join(dir, `cache-${run}`);
      started = performance.now();
      const plan = await planDownload('bench/model', 'main', { endpoint: hub.url, cacheDir });
      await downloadSnapshot(plan, { endpoint: hub.url, cacheDir, onProgress: () => undefined });
      const oursMs = performance.now() - started;
      await rm(cacheDir, { recursive: true });
      if (run > 0) { // the first run warms the page cache and the JIT
        bare.push(bareMs);
        ours.push(oursMs);
      }
    }
    const mibPerSecond = (ms: number) => (size / MIB / (ms / 1000)).toFixed(0);
    tables.push({
      title: 'Model download, 256 MiB file from the loopback mock Hub (median of 3)',
      head: ['', 'ms', 'MiB/s', 'ratio'],
      rows: [
        ['bare fetch → file (baseline)', median(bare).toFixed(0), mibPerSecond(median(bare)), '1.00'],
        ['vscan download (plan, sha256, .incomplete, rename, link)', median(ours).toFixed(0), mibPerSecond(median(ours)), (median(ours) / median(bare)).toFixed(2)],
      ],
      notes: ['Both in one process with the mock serving from memory; a real download is bound by the network, this measures the overhead of the checks.'],
    });
  } finally {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
  }
}
