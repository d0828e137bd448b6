/**
 * Model specs and engine states in words, for the client's pickers, modals and status bar.
 * No VS Code API here, so that the tests run it with Node alone (test/client/).
 */
import type { ModelInfo, StatusParams } from '../../server/src/lsp/protocol';
import { formatBytes } from '../../server/src/model/acquire/transferProgress';

/** The model a fresh install uses (package.json's default for videoScan.model.checkpoint). */
export const DEFAULT_MODEL = 'cudabenchmarktest/video-scan';

/** `owner/name` with an optional `@revision`, as the Hub spells repo ids. */
const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*(@[^\s@]+)?$/;

/** Why `text` is not a Hub id (`owner/name[@revision]`), or undefined when it is one. */
export function hubIdProblem(text: string): string | undefined {
  const value = text.trim();
  if (!value) return 'Type a Hub id: owner/name, optionally @revision (a branch, tag or commit)';
  if (!HUB_ID.test(value)) return `"${value}" is not a Hub id: expected owner/name or owner/name@revision`;
  const name = value.split('@')[0]!;
  if (/\.\.|--|[.-]$|[.-]\//.test(name)) return `"${value}" is not a Hub id: "..", "--" and a "." or "-" at the end of a part are not allowed`;
  if (name.length > 96) return `"${value}" is not a Hub id: longer than 96 characters`;
  return undefined;
}

/** Bytes in words, as the download's progress writes them (`12.0 MiB`, `4.30 GiB`): one owner, the server's. */
export { formatBytes };

const LICENCE_NAMES: Record<string, string> = {
  'bsl-1.1': 'Business Source License 1.1',
  'apache-2.0': 'Apache License 2.0',
  mit: 'MIT License',
};

/** A model card's licence id in words: `Business Source License 1.1 (bsl-1.1)`. */
export function licenceInWords(license: string | undefined): string {
  if (!license) return 'not declared on the model card';
  const name = LICENCE_NAMES[license.toLowerCase()];
  return name ? `${name} (${license})` : license;
}

/** A model spec in a few words: a Hub id's name (with its revision), a folder's last part. */
export function shortModelName(spec: string): string {
  if (!hubIdProblem(spec)) return spec.slice(spec.indexOf('/') + 1);
  return spec.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || spec;
}

/** A model's problem without the spec the server puts first (the UI names the model already). */
export function problemOf(info: Pick<ModelInfo, 'spec' | 'repo' | 'problem'>): string | undefined {
  if (!info.problem) return undefined;
  // The server names the spec, or the repo with the revision it asked for (`owner/name@main: …`).
  for (const prefix of [`${info.spec}: `, ...(info.repo ? [`${info.repo}: `] : [])]) {
    if (info.problem.startsWith(prefix)) return info.problem.slice(prefix.length);
  }
  const withRevision = info.repo && info.problem.startsWith(`${info.repo}@`) ? info.problem.indexOf(': ') : -1;
  return withRevision > 0 && !info.problem.slice(info.repo!.length, withRevision).includes(' ') ? info.problem.slice(withRevision + 2) : info.problem;
}

/** Whether a model is here, in a few words (with a codicon), for a QuickPick item. */
export function availability(info: ModelInfo): string {
  if (info.ready) return '$(check) downloaded';
  if (info.problem) return `$(warning) ${problemOf(info)}`;
  if (info.kind === 'hub') return `$(cloud-download) not downloaded${info.downloadBytes !== undefined ? ` · ${formatBytes(info.downloadBytes)}` : ''}`;
  return '$(warning) not a complete checkpoint';
}

/**
 * What the engine stores in fewer bits, in words: `int8 weights`, `an 8-bit K/V cache`.
 * bf16 weights and a float cache are the model as it is: only the quantized are worth saying.
 */
export function quantizedParts(status: Pick<StatusParams, 'weights' | 'kvCache'>): string[] {
  return [...(status.weights && status.weights !== 'bf16' ? [`${status.weights} weights`] : []), ...(status.kvCache === 'int8' ? ['an 8-bit K/V cache'] : [])];
}

/** Where the engine runs, in words: `the GPU through CUDA, fp16 on NVIDIA H200`, `the CPU, fp32 with int8 weights and an 8-bit K/V cache`. */
export function describeEngine(status: Pick<StatusParams, 'executionProvider' | 'precision' | 'weights' | 'kvCache' | 'adapter'>): string {
  const parts = quantizedParts(status);
  const weights = parts.length ? ` with ${parts.join(' and ')}` : '';
  const precision = status.precision ? `, ${status.precision}${weights}` : weights;
  const adapter = status.adapter ? ` on ${status.adapter}` : '';
  switch (status.executionProvider) {
    case 'cuda': return `the GPU through CUDA${precision}${adapter}`;
    case 'webgpu': return `the GPU through WebGPU${precision}${adapter}`;
    case 'cpu': return `the CPU${precision}`;
    default: return 'a provider the engine did not name';
  }
}
