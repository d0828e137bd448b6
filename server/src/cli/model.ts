/** `vscan model …`: write a tiny checkpoint, and inspect a checkpoint. */
import { parseArgs } from 'node:util';
import { openCheckpoint } from '../model/checkpoint';
import { DTYPE_BYTES } from '../model/safetensors';
import { writeTinyCheckpoint } from '../model/tiny';
import { ModelTokenizer } from '../model/tokenizer';
import { UsageError } from './usage';

export const MODEL_HELP = `  vscan model tiny <dir> [--seed N]      write a small random Qwen3.5 checkpoint (HF layout)
  vscan model inspect <dir> [--json]     check a checkpoint folder and summarise it`;

export async function runModelCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { seed: { type: 'string' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError(`model ${sub ?? ''} needs exactly one checkpoint folder`);
  const dir = positionals[0];
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
      };
      if (values.json) console.log(JSON.stringify(summary, null, 2));
      else {
        const gib = checkpoint.files.reduce((a, f) => a + f.bytes, 0) / 2 ** 30;
        console.log(`${dir}: ${summary.modelType}, ${summary.layers.length} layers (${summary.layers.filter((t) => t === 'full_attention').length} full attention), hidden ${summary.hiddenSize}, vocab ${summary.vocabSize}, vision depth ${summary.visionDepth}`);
        console.log(`  ${summary.tensors} tensors, ${(parameters / 1e6).toFixed(2)} M parameters (${Object.entries(dtypes).map(([d, n]) => `${n} ${d}`).join(', ')}), ${checkpoint.files.length} file(s), ${gib.toFixed(3)} GiB`);
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown model command "${sub ?? ''}" (tiny, inspect)`);
  }
}
