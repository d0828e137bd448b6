/** `vscan runtime …`: install ONNX Runtime's CUDA provider libraries, and say which runtime is in use. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { bundledOnnxRuntime, currentTarget, findInstallation, runtimeRoots } from '../model/acquire/runtimeLayout';
import { installCudaProviders, installRoot } from '../model/acquire/runtimeLibraries';
import { cudaProblem, preferInstalledRuntime } from '../model/runtime/providerLibraries';
import { UsageError } from './usage';

export const RUNTIME_HELP = `  vscan runtime install cuda [--force] [--dir DIR] [--feed URL] [--json]
                                            CUDA provider libraries for --ep auto|cuda (default DIR: $VSCAN_RUNTIME_DIR or ~/.cache/video-scan/runtime)
  vscan runtime status [--json]             the ONNX Runtime in use, its execution providers, and why CUDA would not load`;

/** The libonnxruntime this process mapped (Linux: /proc/self/maps), to show which copy is in use. */
function loadedLibrary(): string | undefined {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    return maps.split('\n').map((line) => line.slice(line.indexOf('/'))).find((path) => /\/libonnxruntime\.so[.\d]*$/.test(path));
  } catch {
    return undefined;
  }
}

export async function runRuntimeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: {
    force: { type: 'boolean' }, dir: { type: 'string' }, feed: { type: 'string' }, json: { type: 'boolean' },
  } });
  const [action, what, ...extra] = positionals;
  if (action === 'status' && !what) {
    const runtime = preferInstalledRuntime();
    const status = {
      target: currentTarget(),
      onnxruntimeVersion: bundledOnnxRuntime().version,
      runtimeFolder: runtime?.folder,
      runtimeSource: runtime?.source,
      library: loadedLibrary(),
      backends: ort.listSupportedBackends(),
      cudaInstalled: findInstallation('cuda')?.folder ?? null,
      cudaProblem: cudaProblem() ?? null,
      roots: runtimeRoots(),
    };
    if (values.json) console.log(JSON.stringify(status, null, 2));
    else {
      console.log(`ONNX Runtime ${status.onnxruntimeVersion} (${status.target}) from ${status.runtimeFolder} (${status.runtimeSource})`);
      console.log(`execution providers: ${status.backends.map((b) => `${b.name}${b.bundled ? '' : ' (not bundled)'}`).join(', ')}`);
      console.log(status.cudaProblem ? `CUDA: ${status.cudaProblem}` : 'CUDA: its libraries load');
    }
    return 0;
  }
  if (action !== 'install' || what !== 'cuda' || extra.length) throw new UsageError('usage: vscan runtime install cuda [--force] [--dir DIR] [--feed URL] | vscan runtime status');
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  let lastLine = '';
  const result = await installCudaProviders({
    root: installRoot(values.dir),
    feed: values.feed,
    force: values.force === true,
    signal: controller.signal,
    onProgress: (progress) => {
      // One line per whole percent on stderr (a terminal sees it update; a log stays short).
      const line = `${Math.floor(progress.fraction * 100)}% ${progress.message.replace(/: [\d.]+ MiB.*/, '')}`;
      if (!values.json && line !== lastLine) process.stderr.write(`${line}\n`);
      lastLine = line;
    },
  });
  if (values.json) console.log(JSON.stringify({ folder: result.folder, alreadyInstalled: result.alreadyInstalled, downloadedBytes: result.downloadedBytes, sha512: result.manifest.source.sha512 }));
  else console.log(result.alreadyInstalled ? `already installed: ${result.folder}` : `installed: ${result.folder}`);
  // A --dir of one's own is only found through VSCAN_RUNTIME_DIR: say so rather than let auto quietly stay on the CPU.
  const root = installRoot(values.dir);
  if (!runtimeRoots().some((r) => resolve(r) === resolve(root))) console.error(`note: the engine looks in ${runtimeRoots().join(' and ')}; set VSCAN_RUNTIME_DIR=${root} for it to use this one`);
  return 0;
}
