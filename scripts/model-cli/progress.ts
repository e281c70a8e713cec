/** A progress bar on stderr (stdout stays clean for piping `info`); plain lines when not a TTY. */
export class ProgressBar {
  private lastDraw = 0;
  private lastName = '';
  private readonly started = Date.now();
  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(name: string, loaded: number, total: number | undefined): void {
    const now = Date.now();
    const done = total !== undefined && loaded >= total;
    if (!done && name === this.lastName && now - this.lastDraw < (this.stream.isTTY ? 100 : 2000)) return;
    this.lastDraw = now;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${formatProgress(name, loaded, total, now - this.started)}`);
      if (done) this.stream.write('\n');
    } else {
      // Throttled above: a line per file start, every 2 s, and at the end.
      this.stream.write(`${formatProgress(name, loaded, total, now - this.started)}\n`);
    }
    this.lastName = name;
  }
}

/** `name [#####-----]  45%  30.1/67.0 MB  12.3 MB/s` (pure, for tests). */
export function formatProgress(
  name: string,
  loaded: number,
  total: number | undefined,
  elapsedMs: number,
  width = 24,
): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const rate = elapsedMs > 0 ? `${mb((loaded / elapsedMs) * 1000)} MB/s` : '';
  if (!total) return `${name}  ${mb(loaded)} MB  ${rate}`;
  const frac = Math.min(1, loaded / total);
  const fill = Math.round(frac * width);
  return `${name} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${mb(loaded)}/${mb(total)} MB  ${rate}`;
}
