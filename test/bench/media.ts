/**
 * FFmpeg from npm, both ways, in the same run: the ffmpeg 4.1 command line
 * (@ffmpeg-installer, what the extension shipped before; the baseline) and the media worker
 * (FFmpeg 8.1's libraries through node-av, in a Node process of our own; what ships now).
 * Same clip, same work, same threads: every frame of a 10 s 1920×1080 H.264 clip decoded to
 * RGB and written as PPM to a pipe (read and dropped here), and one frame by seeking (the
 * per-frame path, where starting a process counts). Peak memory is each process's own:
 * ffmpeg's `-benchmark` maxrss (printed at its info level, so ffmpeg runs without `-v error`), and the worker's, reported by a preloaded script (maxRss.cjs).
 */
import { join } from 'node:path';
import { mediaWorker, resolveTool, spawnTool } from '../../server/src/video/tools';
import { benchClip } from './video';
import { median, type Table } from './stats';

/** Runs of each, alternating: the machine is shared, so more than the usual 3. */
const RUNS = 5;

interface Run {
  ms: number;
  bytes: number;
  maxRssMiB: number;
}

/** Runs a command to its end, reading and dropping stdout; wall time, bytes out, peak RSS. */
function measure(path: string, args: string[], env?: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawnTool(path, args, env);
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { bytes += chunk.length; });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => { stderr += text; });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      const rss = /maxrss=(\d+)kB/.exec(stderr);
      if (code !== 0 || !rss) return reject(new Error(`${path} ${args.slice(0, 3).join(' ')} failed (${code}): ${stderr.slice(-500)}`));
      resolve({ ms, bytes, maxRssMiB: Number(rss[1]) / 1024 });
    });
  });
}

export async function benchMedia(tables: Table[]): Promise<void> {
  const frames = 300;
  const clip = await benchClip('clip-1080p-10s.mp4', '1920x1080', frames / 30);
  const ffmpeg = resolveTool('ffmpeg');
  const worker = mediaWorker();
  const workerArgs = (...args: string[]) => ['--require', join(__dirname, 'maxRss.cjs'), ...worker.args, ...args];
  const all = Array.from({ length: frames }, (_, i) => i).join(',');
  const threads = '2';
  const seekSec = '5.016667'; // between frames 150 and 151: the first frame at or after it is 151
  const cli = { all: [] as Run[], one: [] as Run[] };
  const ours = { all: [] as Run[], one: [] as Run[] };
  // Alternating runs, so both see the same machine state.
  for (let run = 0; run < RUNS; run++) {
    cli.all.push(await measure(ffmpeg, ['-nostdin', '-hide_banner', '-nostats', '-benchmark', '-threads', threads, '-i', clip, '-map', '0:v:0', '-an',
      '-vsync', '0', '-f', 'image2pipe', '-c:v', 'ppm', '-pix_fmt', 'rgb24', 'pipe:1']));
    ours.all.push(await measure(worker.path, workerArgs('decode', clip, all, '', threads), worker.env));
    cli.one.push(await measure(ffmpeg, ['-nostdin', '-hide_banner', '-nostats', '-benchmark', '-threads', '1', '-seek_timestamp', '1', '-ss', seekSec, '-i', clip,
      '-map', '0:v:0', '-an', '-frames:v', '1', '-vsync', '0', '-f', 'image2pipe', '-c:v', 'ppm', '-pix_fmt', 'rgb24', 'pipe:1']));
    ours.one.push(await measure(worker.path, workerArgs('decode', clip, '0', seekSec, '1'), worker.env));
  }
  const ms = (runs: Run[]) => median(runs.map((r) => r.ms));
  const rss = (runs: Run[]) => median(runs.map((r) => r.maxRssMiB));
  const frameBytes = 1920 * 1080 * 3;
  if (Math.round(cli.all[0].bytes / frameBytes) !== frames || Math.round(ours.all[0].bytes / frameBytes) !== frames) {
    throw new Error(`expected ${frames} frames from both, got ${cli.all[0].bytes / frameBytes} and ${ours.all[0].bytes / frameBytes}`);
  }
  tables.push({
    title: `FFmpeg 4.1 command line vs the media worker (FFmpeg 8.1 libraries): 10 s 1920×1080 H.264 clip (median of ${RUNS})`,
    head: ['work', 'ffmpeg 4.1 CLI (baseline)', 'media worker', 'ratio', 'peak RSS CLI', 'peak RSS worker'],
    rows: [
      [`decode all ${frames} frames to RGB, ${threads} threads (ms)`, ms(cli.all).toFixed(0), ms(ours.all).toFixed(0), `${(ms(ours.all) / ms(cli.all)).toFixed(2)}×`, `${rss(cli.all).toFixed(0)} MiB`, `${rss(ours.all).toFixed(0)} MiB`],
      ['seek and decode one frame, 1 thread, process start included (ms)', ms(cli.one).toFixed(0), ms(ours.one).toFixed(0), `${(ms(ours.one) / ms(cli.one)).toFixed(2)}×`, `${rss(cli.one).toFixed(0)} MiB`, `${rss(ours.one).toFixed(0)} MiB`],
    ],
    notes: ['The worker\'s peak RSS includes Node itself (~40 MiB) and the 170 MB addon\'s mapped pages it touched; ffmpeg\'s is the whole static binary\'s.'],
  });
}
