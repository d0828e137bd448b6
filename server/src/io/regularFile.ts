/**
 * Reading an input file we do not trust to be a file. A FIFO opened for reading blocks
 * until a writer appears (forever, for a planted one), a device never ends and a folder
 * fails deep inside a parser: so the file is opened without blocking, checked to be a
 * regular file of a sane size on the opened handle (no window between check and read),
 * and only then read.
 */
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';

/** What a non-regular file is, for messages. */
export function kindOf(info: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** Renders a byte count for messages (`12.5 MB`). */
export function describeBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : bytes >= 1e3 ? `${(bytes / 1e3).toFixed(1)} kB` : `${bytes} bytes`;
}

/**
 * Opens `file` for reading if it is a regular file; throws `error(message)` naming the
 * file otherwise. Missing files throw the usual ENOENT error, so callers can tell "absent"
 * from "wrong". O_NONBLOCK makes opening a FIFO return at once; it is ignored for regular
 * files and absent on Windows, where FIFOs do not exist as paths.
 */
export async function openRegularFile(file: string, error: (message: string) => Error): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw error(`${file}: is ${kindOf(info)}, expected a regular file`);
    return { handle, size: info.size };
  } catch (cause) {
    await handle.close();
    throw cause;
  }
}

/**
 * The bytes of a regular file of at most `maxBytes`; undefined when it does not exist.
 * Anything else (a FIFO, a folder, too large, unreadable) throws `error(message)`.
 */
export async function readRegularFile(file: string, maxBytes: number, error: (message: string) => Error): Promise<Buffer | undefined> {
  let opened;
  try {
    opened = await openRegularFile(file, error);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code) throw error(`${file}: cannot be read (${code})`);
    throw cause;
  }
  const { handle, size } = opened;
  try {
    if (size > maxBytes) throw error(`${file}: is ${describeBytes(size)}, more than the ${describeBytes(maxBytes)} such a file may be`);
    const out = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) { // bounded: each read advances or the file shrank
      const { bytesRead } = await handle.read(out, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return out.subarray(0, filled);
  } finally {
    await handle.close();
  }
}
