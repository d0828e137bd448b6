/**
 * The task prompts. The checkpoint's own prompts win when it carries them (`prompts.json`
 * with `caption` and `find`, `{query}` standing for the event); otherwise these documented
 * defaults; the caller may override either.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TaskPrompts {
  caption: string;
  /** `{query}` is replaced by the event description. */
  find: string;
}

export const DEFAULT_PROMPTS: TaskPrompts = {
  caption: 'Describe this video. First write "Scene:" and a paragraph about the whole video, then "Events:" and one line per event in the form "<start - end> description", with times in seconds.',
  find: 'When does this event happen in the video: "{query}"? Answer in the form "From X.X to Y.Y."',
};

export async function readPrompts(checkpointDir: string): Promise<TaskPrompts & { source: string }> {
  const file = join(checkpointDir, 'prompts.json');
  try {
    const json = JSON.parse(await readFile(file, 'utf8')) as Partial<TaskPrompts>;
    return {
      caption: typeof json.caption === 'string' ? json.caption : DEFAULT_PROMPTS.caption,
      find: typeof json.find === 'string' ? json.find : DEFAULT_PROMPTS.find,
      source: file,
    };
  } catch {
    return { ...DEFAULT_PROMPTS, source: 'built-in defaults' };
  }
}
