/**
 * Imported first by the engine process and the CLI, before anything requires
 * onnxruntime-node: an installed runtime folder (CUDA providers beside a copy of the
 * binding) replaces the bundled binary for the rest of the process (providerLibraries.ts).
 */
import { preferInstalledRuntime } from './providerLibraries';

preferInstalledRuntime();
