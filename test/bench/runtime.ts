/**
 * What installing the CUDA providers costs here beyond the download itself: a package of
 * the real one's order of size served from 127.0.0.1 (so the network is as fast as it gets
 * and the local work shows), installed (feed walk, download with SHA-512, extraction,
 * copies of the bundled binding and libonnxruntime, atomic rename) against fetching the
 * same .nupkg and discarding it, in the same run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledOnnxRuntime } from '../../server/src/model/acquire/runtimeLayout';
import { installCudaProviders } from '../../server/src/model/acquire/runtimeLibraries';
import { makeFakeNupkg, PACKAGE_ID, startLoopbackFeed } from '../helpers/loopbackNuget';
import { median, type Table } from './stats';

const RUNS = 3;

export async function benchRuntime(tables: Table[]): Promise<void> {
  const version = bundledOnnxRuntime().version;
  const mib = 256;
  const nupkg = await makeFakeNupkg(version, {
    'libonnxruntime_providers_shared.so': randomBytes(2 ** 16),
    'libonnxruntime_providers_cuda.so': randomBytes(mib * 2 ** 20),
  });
  const feed = await startLoopbackFeed(version, nupkg);
  const root = await mkdtemp(join(tmpdir(), 'vscan-bench-runtime-'));
  try {
    const id = PACKAGE_ID.toLowerCase();
    const url = feed.index.replace('/v3/index.json', `/flat/${id}/${version}/${id}.${version}.nupkg`);
    const fetchOnly: number[] = [];
    const install: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      let started = performance.now();
      const response = await fetch(url);
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) void chunk;
      const fetched = performance.now() - started;
      started = performance.now();
      await installCudaProviders({ root, feed: feed.index, force: true });
      const installed = performance.now() - started;
      if (i > 0) { fetchOnly.push(fetched); install.push(installed); } // the first pair warms up
    }
    const ms = (v: number) => v.toFixed(0);
    tables.push({
      title: `CUDA provider install from a loopback NuGet feed: ${(nupkg.length / 2 ** 20).toFixed(0)} MiB .nupkg (median ms of ${RUNS})`,
      head: ['fetch and discard (baseline)', 'install', 'ratio'],
      rows: [[ms(median(fetchOnly)), ms(median(install)), `${(median(install) / median(fetchOnly)).toFixed(1)}×`]],
      notes: ['The real Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0 is several hundred MiB from nuget.org, so over a real connection the download dominates; the install\'s own work is hashing, writing the .nupkg, inflating two entries and copying the bundled 46 MB libonnxruntime.'],
    });
  } finally {
    await feed.close();
    await rm(root, { recursive: true, force: true });
  }
}
