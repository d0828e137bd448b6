/**
 * The client suite, run inside VS Code's extension host by @vscode/test-electron (bundled
 * to out/vscode-suite.js). A small sequential runner: each check either passes or throws.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';

function folder(): vscode.Uri {
  const first = vscode.workspace.workspaceFolders?.[0];
  if (!first) throw new Error('no workspace folder open');
  return first.uri;
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const checks: [string, () => Promise<void>][] = [
  ['the language server publishes diagnostics with stable codes', async () => {
    const uri = vscode.Uri.joinPath(folder(), 'problems.vscan');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const diagnostics = await until('diagnostics', () => {
      const found = vscode.languages.getDiagnostics(uri);
      return found.some((d) => d.code === 'out-of-range') && found;
    });
    const codes = new Set(diagnostics.map((d) => String(d.code)));
    for (const code of ['overlap', 'reversed-span', 'malformed-time', 'duplicate-event', 'unsorted']) assert.ok(codes.has(code), code);
  }],
  ['quick fixes are offered for a reversed span', async () => {
    const uri = vscode.Uri.joinPath(folder(), 'problems.vscan');
    const reversed = vscode.languages.getDiagnostics(uri).find((d) => d.code === 'reversed-span')!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, reversed.range);
    assert.ok(actions.some((a) => a.title === 'Swap start and end'));
  }],
  ['the outline lists the Scene block and its events', async () => {
    const uri = vscode.Uri.joinPath(folder(), 'kitchen.vscan');
    await vscode.workspace.openTextDocument(uri);
    const outline = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', uri);
    const scene = outline.find((s) => s.name === 'Scene');
    assert.ok(scene);
    assert.equal(scene.children.length, 4);
  }],
  ['Open Preview to the Side opens a webview beside the editor', async () => {
    const uri = vscode.Uri.joinPath(folder(), 'kitchen.vscan');
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    await vscode.commands.executeCommand('videoScan.openPreviewToSide');
    await until('the preview tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.label.includes('kitchen.vscan')));
  }],
  ['formatting normalises times through the language server', async () => {
    const document = await vscode.workspace.openTextDocument({ language: 'vscan', content: 'Scene: x\nEvents: <1 - 2>  a\n' });
    const edits = await vscode.commands.executeCommand<vscode.TextEdit[]>('vscode.executeFormatDocumentProvider', document.uri, { tabSize: 2, insertSpaces: true });
    assert.ok(edits.length > 0);
    assert.equal(edits[0].newText, 'Events:\n<1.0 - 2.0> a');
  }],
];

export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const [name, check] of checks) {
    try {
      await check();
      console.log(`ok - ${name}`);
    } catch (error) {
      failures.push(name);
      console.log(`not ok - ${name}: ${error instanceof Error ? error.stack : String(error)}`);
    }
  }
  console.log(`${checks.length - failures.length} passed, ${failures.length} failed`);
  if (failures.length) throw new Error(`${failures.length} failed: ${failures.join('; ')}`);
}
