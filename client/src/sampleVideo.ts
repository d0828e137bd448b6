/**
 * The walkthrough's sample video: a short test pattern (a moving picture with a frame
 * counter, 8 s, 640×360, H.264) made on request with the bundled ffmpeg, in the first
 * workspace folder (so its .vscan appears beside it in the Explorer) or, with no folder
 * open, in the extension's storage. An existing file is reused, never replaced.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { lastLine, resolveTool, runTool } from '../../server/src/video/tools';

export const SAMPLE_NAME = 'video-scan-sample.mp4';

/** Makes the sample video unless it exists; answers its URI. Throws with ffmpeg's reason when it cannot. */
export async function ensureSampleVideo(context: vscode.ExtensionContext): Promise<vscode.Uri> {
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath ?? context.globalStorageUri.fsPath;
  const file = join(folder, SAMPLE_NAME);
  if (existsSync(file)) return vscode.Uri.file(file);
  await mkdir(folder, { recursive: true });
  // Written under a temporary name and renamed, so a half-made file never looks like the sample.
  const partial = join(folder, `.${SAMPLE_NAME}.${process.pid}.partial.mp4`);
  const ffmpeg = resolveTool('ffmpeg', vscode.workspace.getConfiguration('videoScan.ffmpeg').get<string>('path') || undefined);
  try {
    const result = await runTool(ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25', '-t', '8',
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', partial], { timeoutMs: 120_000 });
    if (result.exitCode !== 0) throw new Error(`ffmpeg could not make the sample video ${file}: ${lastLine(result.stderr) || `exit ${result.exitCode}`}`);
    // Another window may have made it meanwhile: keep that one.
    if (!existsSync(file)) await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
  return vscode.Uri.file(file);
}
