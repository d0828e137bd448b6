#!/usr/bin/env node
/**
 * `vscan`: the video-scan engine and language service from the command line.
 * Exit status: 0 fine, 1 problems found (error diagnostics, unformatted files), 2 bad
 * usage or unreadable input (the reason on stderr).
 */
// First: decides which ONNX Runtime binary onnxruntime-node loads (CUDA providers when installed).
import '../model/runtime/preferInstalledRuntime';
import { parseArgs } from 'node:util';
import { DIAGNOSTIC_CODES, normalizeSettings, type VscanSettings } from '../language';
import { checkFiles, formatFile, renderDiagnostic } from './check';
import { numberFlag, UsageError } from './usage';
import { CheckpointConfigError } from '../video/geometry';
import { PlanError } from '../video/plan';
import { VideoError } from '../video/probe';
import { ToolError } from '../video/tools';
import { runVideoCommand, VIDEO_HELP } from './video';
import { MODEL_HELP, runGenerateCommand, runModelCommand } from './model';
import { runTaskCommand, TASK_HELP } from './tasks';
import { RUNTIME_HELP, runRuntimeCommand } from './runtime';
import { FeedError } from '../model/acquire/nugetFeed';
import { RuntimeInstallError } from '../model/acquire/runtimeLibraries';
import { CACHE_HELP, runCacheCommand } from './cache';
import { LIBRARY_HELP, runLibraryCommand } from './library';
import { CheckpointError } from '../model/checkpoint/safetensors';
import { DownloadCancelledError, HubError } from '../model/acquire/hubClient';
import { ModelNotDownloadedError } from '../model/acquire/resolveModel';
import { ProviderUnavailableError } from '../model/runtime/runtime';

const HELP = `vscan — video-scan from the command line

Usage:
  vscan check <file|folder>... [--json] [options]   diagnostics, as the editor shows them
  vscan format <file> [--write | --check] [--time-style seconds|clock]
${VIDEO_HELP}
${MODEL_HELP}
${TASK_HELP}
${LIBRARY_HELP}
${RUNTIME_HELP}
${CACHE_HELP}
  vscan help | --help
  vscan --version

Options for check:
  --json                     print an array of {file, range, severity, code, message}
  --severity CODE=LEVEL      override a code's severity (error|warning|information|hint|off); repeatable
  --range-tolerance S        seconds past the video's end before out-of-range (default 0.1)
  --overlap-tolerance S      seconds two events may overlap (default 0)
  --ffprobe PATH             an ffprobe binary to probe with (default: FFmpeg's libraries from npm, in a process of their own)

Codes: ${DIAGNOSTIC_CODES.join(', ')}`;


function settingsFrom(values: { severity?: string[]; 'range-tolerance'?: string; 'overlap-tolerance'?: string; 'time-style'?: string }): VscanSettings {
  const severity: Record<string, string> = {};
  for (const pair of values.severity ?? []) {
    const [code, level] = pair.split('=');
    if (!(DIAGNOSTIC_CODES as readonly string[]).includes(code) || !['error', 'warning', 'information', 'hint', 'off'].includes(level)) {
      throw new UsageError(`--severity expects CODE=LEVEL with a known code and level, got "${pair}"`);
    }
    severity[code] = level;
  }
  const style = values['time-style'];
  if (style !== undefined && style !== 'seconds' && style !== 'clock') throw new UsageError(`--time-style is seconds or clock, got "${style}"`);
  return normalizeSettings({
    severity,
    rangeTolerance: numberFlag('range-tolerance', values['range-tolerance'], { allowZero: true }),
    overlapTolerance: numberFlag('overlap-tolerance', values['overlap-tolerance'], { allowZero: true }),
    timeStyle: style,
  });
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version') {
    console.log('0.1.0');
    return 0;
  }
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP);
    return command ? 0 : 2;
  }
  if (command === 'probe' || command === 'frames') return runVideoCommand(command, rest);
  if (command === 'model') return runModelCommand(rest);
  if (command === 'runtime') return runRuntimeCommand(rest);
  if (command === 'cache') return runCacheCommand(rest);
  if (command === 'caption' || command === 'find') return runTaskCommand(command, rest);
  if (command === 'search' || command === 'export' || command === 'import') return runLibraryCommand(command, rest);
  // `generate <video> …` is the video task; `generate --model … --prompt …` plain text.
  if (command === 'generate') return rest[0] && !rest[0].startsWith('-') ? runTaskCommand('generate', rest) : runGenerateCommand(rest);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      write: { type: 'boolean' },
      check: { type: 'boolean' },
      severity: { type: 'string', multiple: true },
      'range-tolerance': { type: 'string' },
      'overlap-tolerance': { type: 'string' },
      'time-style': { type: 'string' },
      ffprobe: { type: 'string' },
    },
  });
  const settings = settingsFrom(values);
  switch (command) {
    case 'check': {
      if (!positionals.length) throw new UsageError('check needs at least one file or folder');
      const diagnostics = await checkFiles(positionals, settings, values.ffprobe);
      if (values.json) console.log(JSON.stringify(diagnostics, null, 2));
      else for (const d of diagnostics) console.log(renderDiagnostic(d));
      return diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
    }
    case 'format': {
      if (positionals.length !== 1) throw new UsageError('format needs exactly one file');
      if (values.write && values.check) throw new UsageError('--write and --check do not go together');
      const { text, changed } = await formatFile(positionals[0], settings, values.write === true);
      if (values.check) {
        if (changed) console.error(`${positionals[0]}: not formatted`);
        return changed ? 1 : 0;
      }
      if (!values.write) process.stdout.write(text);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}" (try vscan help)`);
  }
}

/**
 * parseArgs's own message for an unknown option suggests `-- "-i"`, quoting the option
 * rather than the argument (`vscan probe -i.mp4` → `-- "-i"`, which names no file). Ours
 * names the whole argument and the command to type.
 */
function unknownOptionMessage(message: string, argv: readonly string[]): string {
  const option = /^Unknown option '([^']+)'/.exec(message)?.[1];
  if (!option) return message;
  if (option.startsWith('--')) return `unknown option ${option} (try vscan help)`;
  const argument = argv.find((a) => a === option || (a.startsWith(option) && !a.startsWith('--'))) ?? option;
  const command = argv[0] && !argv[0].startsWith('-') ? `${argv[0]} ` : '';
  return `unknown option ${option}${argument !== option ? ` (in "${argument}")` : ''}; a file name that starts with "-" goes after "--": vscan ${command}-- ${argument}`;
}

const argv = process.argv.slice(2);
run(argv).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    // Expected failures (bad usage, an unreadable video or checkpoint) get one line; parseArgs
    // reports unknown flags with a TypeError carrying an ERR_PARSE_ARGS_* code.
    const expected = [UsageError, VideoError, PlanError, ToolError, CheckpointConfigError, CheckpointError, HubError, DownloadCancelledError, ModelNotDownloadedError, FeedError, RuntimeInstallError, ProviderUnavailableError].some((type) => error instanceof type);
    const code = String((error as NodeJS.ErrnoException)?.code ?? '');
    const usage = expected || code.startsWith('ERR_PARSE_ARGS');
    const message = error instanceof Error ? error.message : String(error);
    console.error(`vscan: ${code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? unknownOptionMessage(message, argv) : message}`);
    if (!usage && error instanceof Error && error.stack) console.error(error.stack);
    process.exitCode = 2;
  },
);
