/** Reading a JSON object from a file we do not trust (a checkpoint's configs). */
import { readRegularFile } from './regularFile';

/** JSON configs beyond this are refused before reading (Qwen's tokenizer.json is 11 MB). */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

/**
 * The object in `file`; undefined when the file does not exist. Anything else than a JSON
 * object in a regular file of at most `maxBytes` throws the caller's error, naming the file.
 */
export async function readJsonObject(file: string, error: (message: string) => Error, maxBytes = MAX_JSON_BYTES): Promise<Record<string, unknown> | undefined> {
  const bytes = await readRegularFile(file, maxBytes, error);
  if (!bytes) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw error(`${file}: not valid JSON (${(cause as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw error(`${file}: expected a JSON object`);
  return value as Record<string, unknown>;
}
