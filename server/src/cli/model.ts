/** `vscan model …`: write a tiny checkpoint, and inspect a checkpoint. */
import { parseArgs } from 'node:util';
import { openCheckpoint } from '../model/checkpoint/checkpoint';
import { DTYPE_BYTES } from '../model/checkpoint/safetensors';
import { writeTinyCheckpoint } from '../model/checkpoint/tiny';
import { ModelTokenizer } from '../model/checkpoint/tokenizer';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeNpy } from '../io/npy';
import { checkModel } from '../model/runtime/check';
import { describeAdapter } from '../model/runtime/webgpuAdapter';
import { argmax, TextEngine, textPositions } from '../model/runtime/engine';
import { stripThink } from '../model/checkpoint/tokenizer';
import { loadProgressPrinter as loadProgress, numberFlag, peakResidentBytes, RUNTIME_FLAGS, runtimeFlags, UsageError } from './usage';
import { resolveModelDir } from '../model/acquire/resolveModel';
import { HUB_HELP, runHubCommand } from './modelHub';

/** \`vscan generate --model DIR|owner/name --prompt TEXT\`: raw text generation through the chat template. */
export async function runGenerateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    model: { type: 'string' }, prompt: { type: 'string' }, 'max-new-tokens': { type: 'string' }, json: { type: 'boolean' },
    sample: { type: 'boolean' }, temperature: { type: 'string' }, 'top-p': { type: 'string' }, seed: { type: 'string' }, ...RUNTIME_FLAGS,
    'loop-steps': { type: 'string' },
  } });
  if (positionals.length) throw new UsageError('generate takes no positional arguments here (video prompts come with vscan caption/find)');
  if (!values.model || values.prompt === undefined) throw new UsageError('generate needs --model DIR|owner/name and --prompt TEXT');
  const engine = await TextEngine.load(await resolveModelDir(values.model), { ...runtimeFlags(values), onLoadProgress: loadProgress(values.json === true) });
  if (engine.report.fallbackReason && !values.json) console.error(engine.report.fallbackReason);
  const prompt = engine.tokenizer.encode(await engine.tokenizer.renderChat([{ role: 'user', content: values.prompt }]));
  let printed = 0;
  const result = await engine.generate(prompt, {
    maxNewTokens: numberFlag('max-new-tokens', values['max-new-tokens'], { integer: true, allowZero: true }) ?? 256,
    doSample: values.sample === true,
    temperature: numberFlag('temperature', values.temperature, { allowZero: true }) ?? 1,
    topP: numberFlag('top-p', values['top-p'], { allowZero: true }) ?? 1,
    seed: numberFlag('seed', values.seed, { integer: true, allowZero: true }) ?? 0,
    loopSteps: values['loop-steps'] === undefined ? undefined : Math.max(1, numberFlag('loop-steps', values['loop-steps'], { integer: true, allowZero: true })!),
    onToken: values.json ? undefined : (_id, text) => {
      process.stdout.write(text.slice(printed));
      printed = text.length;
    },
  });
  if (values.json) console.log(JSON.stringify({ raw: result.text, text: stripThink(result.text), ids: result.ids, stopReason: result.stopReason, promptTokens: prompt.length }));
  else process.stdout.write('\n');
  return 0;
}

export const MODEL_HELP = `  vscan model tiny <dir> [--seed N]      write a small random Qwen3.5 checkpoint (HF layout)
  vscan model inspect <model> [--json]   check a checkpoint (folder or Hub id) and summarise it
  vscan model check <model> [--ep auto|cuda|webgpu|cpu] [--precision auto|fp32|fp16] [--weights auto|bf16|int8|int4] [--kv-cache auto|float|int8] [--threads N] [--json]
                                         load, run, and compare cached decoding with full recomputation;
                                         with --weights int8|int4 also the drift from the bf16 weights
  vscan model logits <model> --ids 1,2,3 [--json] [--dump DIR] [--ep …] [--precision …]
  vscan generate --model <model> --prompt TEXT [--max-new-tokens N] [--sample --temperature T --top-p P --seed N]
                 [--loop-steps K] [--json] [--ep …] [--precision …]
                 (--loop-steps: greedy tokens per session run, default 16 — 1 on WebGPU, whose cache stays on the GPU; 1: one run per token)
  --ep auto|cuda|webgpu|cpu: auto tries CUDA, then WebGPU on a hardware adapter, then CPU (webgpu: any adapter,
  software ones included); --precision auto|fp32|fp16: auto is fp16 on CUDA and WebGPU with shader-f16, else fp32;
  --weights auto|bf16|int8|int4: the linear layers' weights, quantized once into the graph cache (auto: int8 on
  the CPU for models of 1 GiB and more, else bf16);
  --kv-cache auto|float|int8: what the K/V cache holds: floats, or 8 bits with a scale per head and token
  (a quarter of float32's bytes, read once per decoded token; CPU only; auto: int8 on the CPU for models of
  1 GiB and more, else float);
  --threads N: threads per operator (default: ONNX Runtime's, all physical cores)
${HUB_HELP}`;

/** Load stages on stderr (not with --json, whose stdout must stay clean anyway). */

export async function runModelCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const hub = runHubCommand(sub, rest);
  if (hub) return hub;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: {
    seed: { type: 'string' }, json: { type: 'boolean' }, ...RUNTIME_FLAGS, ids: { type: 'string' }, dump: { type: 'string' },
  } });
  if (positionals.length !== 1) throw new UsageError(`model ${sub ?? ''} needs exactly one checkpoint (a folder, or a Hub id for inspect, check and logits)`);
  // Every command but tiny (which writes a folder) reads a checkpoint: a folder or a cached Hub model.
  const dir = sub === 'tiny' ? positionals[0] : await resolveModelDir(positionals[0]);
  switch (sub) {
    case 'tiny': {
      const seed = values.seed === undefined ? 0 : Number(values.seed);
      if (!Number.isSafeInteger(seed) || seed < 0) throw new UsageError(`--seed needs a non-negative integer, got "${values.seed}"`);
      const config = await writeTinyCheckpoint(dir, { seed });
      console.log(`wrote a tiny Qwen3.5 checkpoint (${config.text.numLayers} layers, hidden ${config.text.hiddenSize}, vocab ${config.text.vocabSize}, seed ${seed}) to ${dir}`);
      return 0;
    }
    case 'inspect': {
      const checkpoint = await openCheckpoint(dir);
      const tokenizer = await ModelTokenizer.load(dir);
      let parameters = 0;
      const dtypes: Record<string, number> = {};
      for (const tensor of checkpoint.tensors.values()) {
        parameters += tensor.byteLength / DTYPE_BYTES[tensor.dtype];
        dtypes[tensor.dtype] = (dtypes[tensor.dtype] ?? 0) + 1;
      }
      const summary = {
        dir,
        modelType: checkpoint.config.modelType,
        layers: checkpoint.config.text.layerTypes,
        hiddenSize: checkpoint.config.text.hiddenSize,
        vocabSize: checkpoint.config.text.vocabSize,
        visionDepth: checkpoint.config.vision.depth,
        tensors: checkpoint.tensors.size,
        parameters,
        dtypes,
        files: checkpoint.files,
        chatTemplate: tokenizer.templateSource,
        /** Keys config.json leaves out, with the Hugging Face default each took. */
        defaulted: checkpoint.config.defaulted,
      };
      if (values.json) console.log(JSON.stringify(summary, null, 2));
      else {
        const gib = checkpoint.files.reduce((a, f) => a + f.bytes, 0) / 2 ** 30;
        console.log(`${dir}: ${summary.modelType}, ${summary.layers.length} layers (${summary.layers.filter((t) => t === 'full_attention').length} full attention), hidden ${summary.hiddenSize}, vocab ${summary.vocabSize}, vision depth ${summary.visionDepth}`);
        console.log(`  ${summary.tensors} tensors, ${(parameters / 1e6).toFixed(2)} M parameters (${Object.entries(dtypes).map(([d, n]) => `${n} ${d}`).join(', ')}), ${checkpoint.files.length} file(s), ${gib.toFixed(3)} GiB`);
        if (summary.defaulted.length) console.log(`  absent from config.json, so the Hugging Face defaults: ${summary.defaulted.join(', ')}`);
      }
      return 0;
    }
    case 'check': {
      const report = await checkModel(dir, { ...runtimeFlags(values), onLoadProgress: loadProgress(values.json === true) });
      if (values.json) console.log(JSON.stringify({ ...report, peakResidentBytes: peakResidentBytes() }, null, 2));
      else {
        if (report.fallbackReason) console.error(report.fallbackReason);
        console.log(`loaded ${report.loaded.dir}: ${(report.loaded.parameters / 1e6).toFixed(2)} M parameters, ${(report.loaded.weightsBytes / 2 ** 30).toFixed(3)} GiB of weights (${report.loaded.weightFiles}), graph ${report.loaded.modelFile ?? 'in memory'}`);
        if (report.adapter) console.log(`adapter: ${describeAdapter(report.adapter)}`);
        if (report.executionProvider !== 'cpu') console.log(`ran on the CPU: ${report.cpuNodes.join(', ') || 'nothing'}`);
        if (report.drift) {
          const d = report.drift;
          const t = d.tolerance;
          console.log(`drift from bf16 (${report.weightsScheme}, ${d.prompts} prompts): logits cosine ≥ ${d.minLogitCosine.toFixed(4)} (tolerance ${t.minLogitCosine}), relative error ≤ ${d.maxLogitRelativeError.toFixed(4)} (${t.maxLogitRelativeError}), top-1 agreement ${(100 * d.top1Agreement).toFixed(0)}% (${100 * t.minTop1Agreement}%), vision features cosine ≥ ${d.minVisionCosine.toFixed(4)} (${t.minVisionCosine}), mean ${d.meanVisionCosine.toFixed(4)}: ${d.ok ? 'within' : 'BEYOND'} tolerance`);
        }
        console.log(`${report.ok ? 'ok' : 'FAILED'}: ${report.executionProvider} ${report.precision} ${report.weightsScheme} weights, ${report.target.kvCache === 'int8' ? '8-bit' : 'float'} K/V cache, max |Δlogit| ${report.maxAbsLogitDiff.toExponential(2)} (tolerance ${report.tolerance.toExponential(0)}), tokens ${report.tokensMatch ? 'match' : 'differ'}, decode loop ${report.loopMatches ? 'matches' : 'differs'}; load ${report.loadMs.toFixed(0)} ms, prefill ${report.prefillTokensPerSec.toFixed(0)} tok/s, decode ${report.decodeTokensPerSec.toFixed(1)} tok/s`);
      }
      return report.ok ? 0 : 1;
    }
    case 'logits': {
      if (!values.ids) throw new UsageError('model logits needs --ids 1,2,3');
      const ids = values.ids.split(',').map((s) => Number(s.trim()));
      if (!ids.length || !ids.every((id) => Number.isSafeInteger(id) && id >= 0)) throw new UsageError(`--ids needs comma-separated token ids, got "${values.ids}"`);
      const engine = await TextEngine.load(dir, runtimeFlags(values));
      const bad = ids.find((id) => id >= engine.vocabSize);
      if (bad !== undefined) throw new UsageError(`token id ${bad} is outside the vocabulary (${engine.vocabSize})`);
      const positions = textPositions(0, ids.length);
      const result = await engine.forward(ids, positions, engine.emptyCache(), 0);
      const V = engine.vocabSize;
      const last = Array.from(result.logits.subarray((result.rows - 1) * V));
      if (values.dump) {
        await mkdir(values.dump, { recursive: true });
        await writeNpy(join(values.dump, 'input_ids.npy'), { dtype: 'int64', data: ids, shape: [1, ids.length] });
        await writeNpy(join(values.dump, 'position_ids.npy'), { dtype: 'int64', data: positions.flat(), shape: [3, 1, ids.length] });
        await writeNpy(join(values.dump, 'logits.npy'), { dtype: 'float32', data: result.logits, shape: [1, ids.length, V] });
      }
      if (values.json) console.log(JSON.stringify({ logits: last, argmax: argmax(result.logits.subarray((result.rows - 1) * V)) }));
      else console.log(`argmax ${argmax(result.logits.subarray((result.rows - 1) * V))} of ${V} logits${values.dump ? `; wrote input_ids.npy, position_ids.npy, logits.npy to ${values.dump}` : ''}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown model command "${sub ?? ''}" (tiny, inspect, check, logits, download, list)`);
  }
}
