/**
 * `npm run bench`: every benchmark, printed as Markdown tables ready for
 * docs/benchmarks.md. Not a test: nothing here asserts a time.
 */
import { cpus, totalmem } from 'node:os';
import { benchLanguage } from './language';
import { benchVideo } from './video';
import { benchMedia } from './media';
import { benchEngine, benchEngineMemory, benchTemplateRender } from './engine';
import { benchTasks } from './tasks';
import { benchHub } from './hub';
import { benchRuntime } from './runtime';
import { benchWebGpu } from './webgpu';
import { benchLibrary } from './library';
import { benchPreview } from './preview';
import { benchQuant } from './quant';
import { benchKvCache } from './kvCache';
import { renderTable, type Table } from './stats';

async function main(): Promise<void> {
  const tables: Table[] = [];
  // `npm run bench -- language video media engine tasks hub runtime webgpu library preview quant kvcache` runs a subset.
  const only = process.argv.slice(2);
  const wanted = (name: string) => only.length === 0 || only.includes(name);
  if (wanted('language')) await benchLanguage(tables);
  if (wanted('video')) await benchVideo(tables);
  if (wanted('media')) await benchMedia(tables);
  if (wanted('engine')) {
    await benchEngine(tables);
    await benchEngineMemory(tables);
    await benchTemplateRender(tables);
  }
  if (wanted('tasks')) await benchTasks(tables);
  if (wanted('hub')) await benchHub(tables);
  if (wanted('runtime')) await benchRuntime(tables);
  if (wanted('webgpu')) await benchWebGpu(tables);
  if (wanted('library')) await benchLibrary(tables);
  if (wanted('preview')) await benchPreview(tables);
  if (wanted('quant')) await benchQuant(tables);
  if (wanted('kvcache')) await benchKvCache(tables);
  console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`);
  for (const table of tables) console.log(renderTable(table) + '\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
