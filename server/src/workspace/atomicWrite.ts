/** Writes a file so that readers see the old content or the new, never a torn mix. */
import { randomBytes } from 'node:crypto';
import { realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path`'s content atomically. A symbolic link is written through: the file it
 * points to gets the new content and the link stays a link (renaming onto the link's
 * name would replace the link with a plain file).
 */
export async function writeFileAtomic(linkOrPath: string, content: string | Uint8Array): Promise<void> {
  const path = await realpath(linkOrPath).catch(() => linkOrPath); // a new file has no real path yet
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let mode: number | undefined;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch {
    mode = undefined; // a new file gets the default mode
  }
  try {
    await writeFile(temp, content, mode === undefined ? {} : { mode });
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
