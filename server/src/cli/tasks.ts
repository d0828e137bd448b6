/** `vscan caption`, `vscan find` and `vscan generate <video>`: the model over videos. */
import { mkdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeNpy } from '../io/npy';
import type { ExecutionProviderChoice } from '../model/runtime';
import { samplingFromEnv } from '../video/plan';
import { VideoModel, type VideoTaskOptions, type VideoTaskRun } from '../tasks/videoTasks';
import { candidateNames, captionToVscan, writeNewFile } from '../tasks/writeResult';
import { UsageError } from './usage';

export const TASK_HELP = `  vscan caption <video> --model DIR [--out FILE] [--json] [--ep auto|cuda|cpu] [--max-new-tokens N] [--dump DIR]
  vscan find <video> "<event>" --model DIR [--json] [--ep …] [--dump DIR]
  vscan generate <video> --model DIR --prompt TEXT [--json]`;

const OPTIONS = {
  model: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, ep: { type: 'string' },
  'max-new-tokens': { type: 'string' }, dump: { type: 'string' }, prompt: { type: 'string' }, seed: { type: 'string' },
} as const;

/** The exact model inputs and the first generated position's logits, for comparison with a reference. */
async function dumpRun(dir: string, run: VideoTaskRun): Promise<void> {
  await mkdir(dir, { recursive: true });
  const { ids, positions } = run.prompt;
  const pv = run.prepared.pixelValues;
  await writeNpy(join(dir, 'input_ids.npy'), { dtype: 'int64', data: ids, shape: [1, ids.length] });
  await writeNpy(join(dir, 'position_ids.npy'), { dtype: 'int64', data: positions.flat(), shape: [3, 1, ids.length] });
  await writeNpy(join(dir, 'pixel_values.npy'), { dtype: 'float32', data: pv.data, shape: [pv.rows, pv.columns] });
  await writeNpy(join(dir, 'grid_thw.npy'), { dtype: 'int64', data: pv.gridThw, shape: [1, 3] });
  await writeNpy(join(dir, 'logits.npy'), { dtype: 'float32', data: run.firstLogits, shape: [1, run.firstLogits.length] });
}

function progressPrinter(enabled: boolean): VideoTaskOptions['onProgress'] {
  if (!enabled) return undefined;
  let last = '';
  return ({ stage, done, total }) => {
    const line = stage === 'generating' ? `generating: ${done} tokens` : `${stage}: ${done}/${total}`;
    if (line !== last) process.stderr.write(`\r${line.padEnd(40)}`);
    last = line;
  };
}

export async function runTaskCommand(command: 'caption' | 'find' | 'generate', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  const [video, query] = positionals;
  if (!video || (command === 'find' ? positionals.length !== 2 : positionals.length !== 1)) {
    throw new UsageError(command === 'find' ? 'find needs a video and an event description' : `${command} needs exactly one video`);
  }
  if (!values.model) throw new UsageError(`${command} needs --model DIR (a Hugging Face checkpoint folder)`);
  if (command === 'generate' && values.prompt === undefined) throw new UsageError('generate needs --prompt TEXT');
  try {
    await stat(video);
  } catch {
    throw new UsageError(`${video}: no such file`);
  }
  const ep = (values.ep ?? 'auto') as ExecutionProviderChoice;
  if (!['auto', 'cuda', 'cpu'].includes(ep)) throw new UsageError(`--ep is auto, cuda or cpu, got "${values.ep}"`);
  const maxNewTokens = values['max-new-tokens'] === undefined ? undefined : Number(values['max-new-tokens']);
  if (maxNewTokens !== undefined && !(Number.isSafeInteger(maxNewTokens) && maxNewTokens > 0)) throw new UsageError('--max-new-tokens needs a positive integer');
  const model = await VideoModel.load(values.model, { executionProvider: ep });
  if (model.text.report.fallbackReason && !values.json) console.error(model.text.report.fallbackReason);
  const options: VideoTaskOptions = { sampling: samplingFromEnv(), maxNewTokens, onProgress: progressPrinter(!values.json && process.stderr.isTTY === true) };
  if (command === 'find') {
    const result = await model.find(video, query, options);
    if (values.dump) await dumpRun(values.dump, result.run);
    const { run: _run, ...json } = result;
    console.log(values.json ? JSON.stringify(json) : result.span ? `${result.span[0]} – ${result.span[1]} s${result.format_ok ? '' : ' (answer not in the trained format)'}` : `no span found in the answer: ${result.raw}`);
    return 0;
  }
  if (command === 'generate') {
    const run = await model.run(video, values.prompt!, options);
    if (values.dump) await dumpRun(values.dump, run);
    console.log(values.json ? JSON.stringify({ raw: run.raw }) : run.raw);
    return 0;
  }
  const result = await model.caption(video, options);
  if (values.dump) await dumpRun(values.dump, result.run);
  const text = captionToVscan(result, basename(video), { Model: basename(values.model) });
  const written = await writeNewFile(values.out ? [values.out] : candidateNames(video), text);
  const { run: _run, ...json } = result;
  console.log(values.json ? JSON.stringify({ ...json, file: written }) : `wrote ${written}${result.format_ok ? '' : ' (the answer was not in the trained format; kept as written)'}`);
  return 0;
}
