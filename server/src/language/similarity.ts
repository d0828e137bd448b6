/** Ranking file names by how much they look like a wanted one (Link video: candidates). */

/** Base name without folder or extension, lower case: what a person compares. */
function stem(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return (dot > 0 ? base.slice(0, dot) : base).toLowerCase();
}

/** Levenshtein distance, bounded to 64 characters of each (names are short; input is untrusted). */
export function editDistance(a: string, b: string): number {
  a = a.slice(0, 64);
  b = b.slice(0, 64);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** 1 for the same stem, towards 0 for nothing in common. */
export function nameSimilarity(wanted: string, candidate: string): number {
  const a = stem(wanted);
  const b = stem(candidate);
  if (!a || !b) return 0;
  const distance = editDistance(a, b) / Math.max(a.length, b.length);
  const contains = a.includes(b) || b.includes(a) ? 0.25 : 0;
  return Math.max(0, 1 - distance) + contains;
}

/** `names` most similar to `wanted` first (ties: alphabetical). */
export function rankBySimilarity(wanted: string, names: readonly string[]): string[] {
  return names
    .map((name) => ({ name, score: nameSimilarity(wanted, name) }))
    .sort((x, y) => y.score - x.score || x.name.localeCompare(y.name))
    .map((x) => x.name);
}
