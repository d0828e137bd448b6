/** Reading a JSON object from a file we do not trust (a checkpoint's configs). */
import { readFile } from 'node:fs/promises';

/**
 * The object in `file`; undefined when the file cannot be read. Anything else than a JSON
 * object throws the caller's error, naming the file.
 */
export async function readJsonObject(file: string, error: (message: string) => Error): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw error(`${file}: not valid JSON (${(cause as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw error(`${file}: expected a JSON object`);
  return value as Record<string, unknown>;
}
