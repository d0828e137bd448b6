/** An error's message cut to its first line (at most 200 characters): the one-line reasons providers give. */
export function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0].slice(0, 200);
}
