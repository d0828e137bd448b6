/**
 * `npm run test:vscode`: the client suite in a real VS Code (Electron) downloaded by
 * @vscode/test-electron — wherever VS Code can be downloaded (not in this project's
 * offline CI, which runs the code-server end-to-end suite instead). Set
 * VSCODE_EXECUTABLE to use an installed VS Code instead of downloading one.
 */
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { makeSampleVideos } from '../sample-workspace/make-videos';

async function main(): Promise<void> {
  const root = join(__dirname, '..', '..');
  await makeSampleVideos();
  const workspace = mkdtempSync(join(tmpdir(), 'vscan-vscode-'));
  cpSync(join(root, 'test', 'sample-workspace'), workspace, { recursive: true });
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out', 'vscode-suite.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    ...(process.env.VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE } : {}),
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
