/**
 * Imported first by the engine process and the CLI, before anything requires
 * onnxruntime-node: an installed runtime folder (CUDA providers beside a copy of the
 * binding) replaces the bundled binary for the rest of the process (providerLibraries.ts).
 * Where the package has no ONNX Runtime for this platform (darwin-x64), the process stops
 * with that reason as its last line, which the engine host reports, instead of
 * onnxruntime-node's stack trace.
 */
import { bundledOnnxRuntime } from '../acquire/runtimeLayout';
import { preferInstalledRuntime, runtimeUnavailableReason } from './providerLibraries';

const unavailable = runtimeUnavailableReason(bundledOnnxRuntime().binDir);
if (unavailable) {
  process.stderr.write(`vscan: ${unavailable}\n`);
  process.exit(2);
}
preferInstalledRuntime();
