/**
 * `npm run sample`: generates the sample workspace's videos with the ffmpeg from npm
 * (they are not committed): kitchen.mp4 (10 s) and long.mp4 (3 minutes, small).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveTool, runTool } from '../../server/src/video/tools';

async function make(name: string, seconds: number, size: string): Promise<void> {
  const file = join(__dirname, name);
  if (existsSync(file)) return;
  const result = await runTool(resolveTool('ffmpeg'), ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=25`, '-t', String(seconds),
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', file], { timeoutMs: 300_000 });
  if (result.exitCode !== 0) throw new Error(result.stderr);
  console.log(`made ${file}`);
}

export async function makeSampleVideos(): Promise<void> {
  await make('kitchen.mp4', 10, '640x360');
  await make('long.mp4', 180, '320x180');
}

if (require.main === module) {
  makeSampleVideos().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
