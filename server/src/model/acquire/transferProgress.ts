/** Bytes, rate and time left of a download, measured and put in words (CLI bar, LSP progress). */

/** Where a download stands. */
export interface TransferProgress {
  /** The file being fetched now. */
  file: string;
  /** Bytes of this download so far (bytes already in the cache, including resumed parts, are not counted). */
  doneBytes: number;
  /** Bytes this download fetches in all. */
  totalBytes: number;
  /** Bytes per second since the download started. */
  bytesPerSecond: number;
  /** Seconds left at that rate; undefined during the first second (0 once everything arrived). */
  secondsLeft: number | undefined;
}

/** Measures a transfer: feed it byte counts, read its progress. */
export class TransferMeter {
  private readonly started = performance.now();
  private done = 0;

  constructor(readonly totalBytes: number) {}

  add(bytes: number): void {
    this.done += bytes;
  }

  progress(file: string): TransferProgress {
    const seconds = (performance.now() - this.started) / 1000;
    const bytesPerSecond = seconds > 0 ? this.done / seconds : 0;
    const left = Math.max(0, this.totalBytes - this.done);
    // The first second is mostly request latency: a time left from it would be wild.
    const settled = seconds >= 1 && bytesPerSecond > 0;
    return { file, doneBytes: this.done, totalBytes: this.totalBytes, bytesPerSecond, secondsLeft: settled ? left / bytesPerSecond : left === 0 ? 0 : undefined };
  }
}

/** `1.50 GiB`, `12.0 MiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)} ${units[unit]}`;
}

/** `45 s`, `3 min 5 s`, `1 h 2 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `model-00001-of-00002.safetensors: 1.20 GiB of 4.30 GiB, 35.2 MiB/s, 1 min 30 s left`. */
export function describeTransfer(p: TransferProgress): string {
  const rate = `${formatBytes(Math.round(p.bytesPerSecond))}/s`;
  const left = p.secondsLeft === undefined ? '' : `, ${formatDuration(p.secondsLeft)} left`;
  return `${p.file}: ${formatBytes(p.doneBytes)} of ${formatBytes(p.totalBytes)}, ${rate}${left}`;
}

/** Whole percent done (0 when there is nothing to fetch yet, 100 at the end). */
export function percentDone(p: TransferProgress): number {
  return p.totalBytes > 0 ? Math.min(100, Math.floor((p.doneBytes / p.totalBytes) * 100)) : 100;
}
