/**
 * The child processes that read videos. Probing and decoding run in the media worker
 * (dist/media.js: FFmpeg 8 libraries from node-av, in a Node process of our own — see
 * media/mediaWorker.ts); encoding (preview proxies, the sample video) runs the ffmpeg binary
 * shipped in an npm package (@ffmpeg-installer/<platform>). A path (setting or flag) or the
 * VSCAN_FFMPEG / VSCAN_FFPROBE environment variables choose an ffmpeg / ffprobe binary
 * instead, for everything that tool does. Child processes always get an argument array
 * (never a shell string), a timeout and a cancellation signal.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';

export type ToolName = 'ffmpeg' | 'ffprobe';

export class ToolError extends Error {
  override name = 'ToolError';
}

const ENV: Record<ToolName, string> = { ffmpeg: 'VSCAN_FFMPEG', ffprobe: 'VSCAN_FFPROBE' };

/** Where the npm package keeps the ffmpeg binary (no ffprobe binary is shipped: the media worker probes). */
function packagedPath(tool: ToolName): string {
  if (tool === 'ffprobe') throw new Error('no ffprobe is packaged');
  const exe = process.platform === 'win32' ? `${tool}.exe` : tool;
  const pkg = `@ffmpeg-installer/${process.platform}-${process.arch}`;
  return join(dirname(require.resolve(`${pkg}/package.json`)), exe);
}

/** The binary a setting, flag or environment variable names for this tool, if any. */
export function toolOverride(tool: ToolName, override?: string): string | undefined {
  return override || process.env[ENV[tool]] || undefined;
}

/** The path of a tool, checked to exist and be executable; throws a ToolError saying what to do. */
export function resolveTool(tool: ToolName, override?: string): string {
  const chosen = toolOverride(tool, override);
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

/** A program and the arguments that come before the call's own. */
export interface ToolCommand {
  /** `worker`: the media worker, which takes its own short arguments; `binary`: ffmpeg/ffprobe's command line. */
  kind: 'worker' | 'binary';
  path: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * The media worker's command line: this process's own Node (inside VS Code, the extension
 * host's, told to act as plain Node) running dist/media.js. From the TypeScript sources
 * (tests, benchmarks) the built dist/media.js is used, so they test what ships.
 * VSCAN_MEDIA_WORKER names another script (the tests' crashing and hanging workers).
 */
export function mediaWorker(): ToolCommand {
  const beside = join(__dirname, 'media.js');
  const script = process.env.VSCAN_MEDIA_WORKER || (existsSync(beside) ? beside : resolve(__dirname, '..', '..', '..', 'dist', 'media.js'));
  if (!existsSync(script)) throw new ToolError(`The media worker ${script} is missing (run npm run build)`);
  return { kind: 'worker', path: process.execPath, args: [script], env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } };
}

/** The command for a tool: the binary an override names, else the media worker's operation. */
export function toolCommand(tool: ToolName, override: string | undefined, workerOperation: string): ToolCommand {
  if (toolOverride(tool, override)) return { kind: 'binary', path: resolveTool(tool, override), args: [] };
  const worker = mediaWorker();
  return { ...worker, args: [...worker.args, workerOperation] };
}

export interface RunOptions {
  /** Kill the process after this long (default 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Stop collecting stdout beyond this many bytes and kill the process (default 64 MiB). */
  maxStdoutBytes?: number;
  /** The child's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  stdout: Buffer;
  stderr: string;
  exitCode: number;
}

const STDERR_KEEP = 64 * 1024;

/** Every tool process still running, so that none outlives this process. */
const running = new Set<ChildProcessByStdio<null, Readable, Readable>>();
let exitHookInstalled = false;

/** Kills every tool process still running (the server calls it on exit; tests may too). */
export function killAllTools(): number {
  const count = running.size;
  for (const child of running) child.kill('SIGKILL');
  running.clear();
  return count;
}

/**
 * Makes SIGTERM, SIGINT and SIGHUP end this process through `process.exit` (with the usual
 * 128 + signal status), so the exit hook kills its tool processes: by default Node dies on
 * these signals without running exit handlers, orphaning an ffprobe stuck on a bad input.
 */
export function endToolsOnTermination(): void {
  for (const [signal, number] of [['SIGTERM', 15], ['SIGINT', 2], ['SIGHUP', 1]] as const) {
    process.once(signal, () => {
      killAllTools();
      process.exit(128 + number);
    });
  }
}

/**
 * Starts a tool with an argument array (never a shell), stdout and stderr piped, tracked
 * until it exits. The first call hooks process exit, so a server that exits (or is
 * stopped by its client) takes its ffprobe/ffmpeg children with it.
 */
export function spawnTool(path: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcessByStdio<null, Readable, Readable> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killAllTools);
  }
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, env });
  running.add(child);
  child.once('close', () => running.delete(child));
  child.once('error', () => running.delete(child));
  return child;
}

/**
 * A file name as ffmpeg and ffprobe must get it: absolute, so a relative name with a colon
 * (`2024-01-01T12:30:00.mp4`) is not read as a protocol (`2024-01-01T12`) — an absolute
 * POSIX path starts with `/`, and ffmpeg knows Windows drive letters.
 */
export function mediaInput(file: string): string {
  return resolve(file);
}

/**
 * Refuses anything but a regular file before a tool opens it: a FIFO or a device would
 * block ffprobe/ffmpeg (or stream forever) instead of failing.
 */
export async function assertRegularFile(file: string): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ToolError(code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? String(error)})`);
  }
  if (!info.isFile()) throw new ToolError(info.isDirectory() ? 'is a folder, not a video file' : 'not a regular file (a FIFO, socket or device); only regular files are read');
}

/**
 * At most `size` tasks at once; the rest wait in order. Bounds how many tool processes
 * a burst of requests starts (200 open .vscan files are probed 4 at a time, not at once).
 */
export class TaskPool {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A finishing task hands its slot straight to the next waiter (active stays counted),
    // so a call arriving in between cannot take it too.
    if (this.active >= this.size) await new Promise<void>((start) => this.waiting.push(start));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Runs a tool to completion. Rejects with a ToolError on timeout, cancellation or spawn failure. */
export function runTool(path: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { timeoutMs = 30_000, signal, maxStdoutBytes = 64 * 1024 * 1024, env } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ToolError('Cancelled'));
    const child = spawnTool(path, args, env);
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
    child.on('close', (code, killedBy) => {
      finish();
      // A crash leaves no line of its own (a media worker's decoder fault, say): name the signal.
      if (code === null && killedBy) stderr += `\nended by ${killedBy}`;
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
