/** Grammar tests: the TextMate grammar run by vscode-tmgrammar-test over annotated samples. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..');

test('the TextMate grammar scopes headers, scenes, events, times and comments', () => {
  const bin = join(root, 'node_modules', 'vscode-tmgrammar-test', 'dist', 'unit.js');
  const result = spawnSync(process.execPath, [bin, '-g', 'syntaxes/vscan.tmLanguage.json', 'test/grammar/*.test.vscan'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /basic\.test\.vscan run successful/);
  assert.match(result.stdout, /raw-output\.test\.vscan run successful/);
});
