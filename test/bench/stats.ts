/** Small timing helpers for `npm run bench`. */

export interface Table {
  title: string;
  head: string[];
  rows: string[][];
  notes?: string[];
}

export function timeMs(runs: number, work: () => unknown): number[] {
  const out: number[] = [];
  work(); // warm up the JIT
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    work();
    out.push(performance.now() - started);
  }
  return out;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function renderTable(table: Table): string {
  const lines = [`### ${table.title}`, '', `| ${table.head.join(' | ')} |`, `|${table.head.map(() => '---').join('|')}|`];
  for (const row of table.rows) lines.push(`| ${row.join(' | ')} |`);
  for (const note of table.notes ?? []) lines.push('', note);
  return lines.join('\n');
}
