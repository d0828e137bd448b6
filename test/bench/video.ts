/**
 * Video input benchmark: plan + decode + resize + patchify a generated 2-minute 1920×1080
 * H.264 clip, against plain `ffmpeg -i clip -f null -` on the same file in the same run.
 * The pipeline runs in a child process so its peak RSS is its own.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveTool, runTool } from '../../server/src/video/tools';
import { median, type Table } from './stats';

const CLIP_SECONDS = 120;

/** A generated clip, made once and kept in the temp folder between runs (minutes to make). */
export async function benchClip(name: string, size: string, seconds: number, extra: string[] = []): Promise<string> {
  const dir = join(tmpdir(), 'vscan-bench');
  await mkdir(dir, { recursive: true });
  const file = join(dir, name);
  if (!existsSync(file)) {
    const result = await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`,
      '-t', String(seconds), '-c:v', 'libx264', '-preset', 'veryfast', ...extra, '-pix_fmt', 'yuv420p', `${file}.tmp.mp4`], { timeoutMs: 600_000 });
    if (result.exitCode !== 0) throw new Error(result.stderr);
    await import('node:fs/promises').then((fs) => fs.rename(`${file}.tmp.mp4`, file));
  }
  return file;
}

function runChild(file: string, method: string): ChildResult {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'videoChild.ts'), file, method], { encoding: 'utf8', timeout: 900_000 });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout) as ChildResult;
}

/** Sequential pass against seeking on a long clip with 2-second keyframe spacing. */
async function benchSeeking(tables: Table[]): Promise<void> {
  const minutes = 20;
  const file = await benchClip(`clip-360p-${minutes}min-g60.mp4`, '640x360', minutes * 60, ['-g', '60']);
  const sequential = runChild(file, 'sequential');
  const seek = runChild(file, 'seek');
  const auto = runChild(file, 'auto');
  tables.push({
    title: `Sequential pass vs seeking: ${minutes}-minute 640×360 H.264 clip, keyframe every 2 s → ${seek.frames} frames (ms)`,
    head: ['method', 'decode + resize', 'total', 'ratio to sequential'],
    rows: [
      ['one sequential pass', sequential.timings.decodeAndResize.toFixed(0), sequential.totalMs.toFixed(0), '1.00×'],
      ['seek per frame', seek.timings.decodeAndResize.toFixed(0), seek.totalMs.toFixed(0), (seek.totalMs / sequential.totalMs).toFixed(2) + '×'],
      [`auto (chose ${auto.method})`, auto.timings.decodeAndResize.toFixed(0), auto.totalMs.toFixed(0), (auto.totalMs / sequential.totalMs).toFixed(2) + '×'],
    ],
    notes: ['auto reads the packet table (part of its total) and estimates decoded frames: seeking costs the distance from the previous keyframe plus ~10 frames of start-up per sampled frame.'],
  });
}

interface ChildResult {
  method: string;
  timings: { probe: number; plan: number; decodeAndResize: number; patchify: number };
  totalMs: number;
  maxRssMiB: number;
  frames: number;
}

export async function benchVideo(tables: Table[]): Promise<void> {
  await benchOneClip(tables);
  await benchSeeking(tables);
}

async function benchOneClip(tables: Table[]): Promise<void> {
  const file = await benchClip(`clip-1080p-${CLIP_SECONDS}s.mp4`, '1920x1080', CLIP_SECONDS);
  const ffmpeg = resolveTool('ffmpeg');
  const plain: number[] = [];
  const ours: ChildResult[] = [];
  for (let run = 0; run < 3; run++) {
    let started = performance.now();
    const result = await runTool(ffmpeg, ['-v', 'error', '-i', file, '-f', 'null', '-'], { timeoutMs: 600_000 });
    if (result.exitCode !== 0) throw new Error(result.stderr);
    plain.push(performance.now() - started);
    started = performance.now();
    ours.push(runChild(file, 'auto'));
  }
  const pick = (f: (r: ChildResult) => number) => median(ours.map(f));
  const plainMs = median(plain);
  const totalMs = pick((r) => r.totalMs);
  tables.push({
    title: `Video input: ${CLIP_SECONDS} s 1920×1080 H.264 clip → ${ours[0].frames} frames at 576×320 (median of 3, ms)`,
    head: ['stage', 'ms'],
    rows: [
      ['plain `ffmpeg -i clip -f null -` (baseline)', plainMs.toFixed(0)],
      ['probe', pick((r) => r.timings.probe).toFixed(0)],
      ['plan', pick((r) => r.timings.plan).toFixed(2)],
      ['decode + select + resize (overlapped)', pick((r) => r.timings.decodeAndResize).toFixed(0)],
      ['patchify + normalise', pick((r) => r.timings.patchify).toFixed(0)],
      ['**total**', totalMs.toFixed(0)],
      ['**ratio to plain decode**', (totalMs / plainMs).toFixed(2) + '×'],
      ['peak RSS of the pipeline process', `${pick((r) => r.maxRssMiB).toFixed(0)} MiB`],
    ],
    notes: [`Decoded by: ${ours[0].method}. pixel_values alone is ${(ours[0].frames / 2) * 20 * 36} rows × 1536 float32 = ${(((ours[0].frames / 2) * 20 * 36 * 1536 * 4) / 2 ** 20).toFixed(0)} MiB; the resized frames ${((ours[0].frames * 576 * 320 * 3) / 2 ** 20).toFixed(0)} MiB.`],
  });
}
