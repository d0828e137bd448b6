/** Runs the built CLI (dist/cli.js) as a user would, with an argument array and a timeout. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'dist', 'cli.js');

export function vscan(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, cwd: options.cwd, env: options.env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
