/** Command-line paths: files as given, folders expanded to the matching files below them. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isVideoFileName } from '../language';
import { UsageError } from './usage';

export async function expandPaths(paths: string[], accept: (name: string) => boolean): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new UsageError(`${path}: no such file or folder`);
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    for (const entry of await readdir(path, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && accept(entry.name)) files.push(join(entry.parentPath ?? path, entry.name));
    }
  }
  return files.sort();
}

export const isVscanName = (name: string) => name.endsWith('.vscan');
export const isVideoName = isVideoFileName;
