/** Test set-up shared by the model, task and protocol tests. */
import { join } from 'node:path';
import { writeTinyCheckpoint } from '../../server/src/model/checkpoint/tiny';
import { tempDir } from './videos';

/** A fresh temp folder with a tiny checkpoint in `tiny/` (seeded: a seed names its weights). */
export async function tempTinyCheckpoint(prefix: string, seed: number): Promise<{ dir: string; tiny: string }> {
  const dir = await tempDir(prefix);
  const tiny = join(dir, 'tiny');
  await writeTinyCheckpoint(tiny, { seed });
  return { dir, tiny };
}
