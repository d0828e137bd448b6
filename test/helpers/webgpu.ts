/**
 * A WebGPU adapter for the tests without a GPU: SwiftShader, the software Vulkan driver
 * Debian's chromium ships (installed by .ci/run and the e2e set-up). Dawn finds it through
 * the Vulkan loader when VK_ICD_FILENAMES names its ICD file; set before anything in this
 * process starts Dawn (the loader reads the variable once).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Points the Vulkan loader at SwiftShader; fails, naming what to install, when it is missing. */
export function useSoftwareVulkan(): void {
  if (!existsSync(SWIFTSHADER_ICD)) {
    throw new Error(`the WebGPU tests need SwiftShader's Vulkan driver at ${SWIFTSHADER_ICD}: apt-get install chromium libvulkan1 (.ci/run does)`);
  }
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  // Dawn and the loader want a runtime folder; a private one under the temp folder will do.
  const runtime = process.env.XDG_RUNTIME_DIR ?? join(tmpdir(), `xdg-${process.getuid?.() ?? 'user'}`);
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = runtime;
}
