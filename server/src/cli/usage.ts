/** A command-line mistake or an unreadable input: printed on stderr, exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
