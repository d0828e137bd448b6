/**
 * The ffmpeg and ffprobe binaries shipped in npm packages (@ffmpeg-installer/<platform>,
 * ffprobe-static), found at run time, overridable by a path (setting or flag) or the
 * VSCAN_FFMPEG / VSCAN_FFPROBE environment variables. Child processes always get an
 * argument array (never a shell string), a timeout and a cancellation signal.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';

export type ToolName = 'ffmpeg' | 'ffprobe';

export class ToolError extends Error {
  override name = 'ToolError';
}

const ENV: Record<ToolName, string> = { ffmpeg: 'VSCAN_FFMPEG', ffprobe: 'VSCAN_FFPROBE' };

/** Where the npm packages keep each binary. Resolved by path, not by requiring their
 *  entry points: ffprobe-static's calls process.exit on an unknown platform. */
function packagedPath(tool: ToolName): string {
  const exe = process.platform === 'win32' ? `${tool}.exe` : tool;
  if (tool === 'ffmpeg') {
    const pkg = `@ffmpeg-installer/${process.platform}-${process.arch}`;
    return join(dirname(require.resolve(`${pkg}/package.json`)), exe);
  }
  return join(dirname(require.resolve('ffprobe-static/package.json')), 'bin', process.platform, process.arch, exe);
}

/** The path of a tool, checked to exist and be executable; throws a ToolError saying what to do. */
export function resolveTool(tool: ToolName, override?: string): string {
  const chosen = override || process.env[ENV[tool]];
  let path: string;
  if (chosen) {
    path = chosen;
  } else {
    try {
      path = packagedPath(tool);
    } catch {
      throw new ToolError(`No ${tool} binary is packaged for ${process.platform}-${process.arch}; set videoScan.${tool}.path (or ${ENV[tool]}) to one`);
    }
  }
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new ToolError(`${tool} at ${path} is missing or not executable${chosen ? '' : ' (reinstall with npm ci)'}`);
  }
  return path;
}

export interface RunOptions {
  /** Kill the process after this long (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Stop collecting stdout beyond this many bytes and kill the process (default 64 MiB). */
  maxStdoutBytes?: number;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

const STDERR_KEEP = 64 * 1024;

/** Runs a tool to completion. Rejects with a ToolError on timeout, cancellation or spawn failure. */
export function runTool(path: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { timeoutMs = 30_000, signal, maxStdoutBytes = 64 * 1024 * 1024 } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ToolError('Cancelled'));
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: ToolError | undefined;
    const stop = (error: ToolError) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new ToolError(`${args.length ? 'Command' : path} timed out after ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => stop(new ToolError('Cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxStdoutBytes) return stop(new ToolError(`Output exceeded ${maxStdoutBytes} bytes`));
      chunks.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      // Keep the tail: ffmpeg puts the reason for a failure last.
      stderr = (stderr + text).slice(-STDERR_KEEP);
    });
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error) => {
      finish();
      reject(new ToolError(`Cannot run ${path}: ${error.message}`));
    });
    child.on('close', (code) => {
      finish();
      if (failure) reject(failure);
      else resolve({ stdout: Buffer.concat(chunks), stderr, exitCode: code ?? -1 });
    });
  });
}

/** The last meaningful line ffmpeg wrote, for one-line error messages (without a leading `file: `). */
export function lastLine(stderr: string, file?: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const line = lines[lines.length - 1] ?? 'no output';
  return file && line.startsWith(`${file}: `) ? line.slice(file.length + 2) : line;
}
