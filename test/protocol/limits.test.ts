/**
 * Per-document limits over the real protocol (issue 11): capped diagnostics with a
 * summary, capped links, the fix-all as a code action kind, and a large file validated on
 * open and save rather than on every keystroke.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CodeActionRequest, DidSaveTextDocumentNotification, DocumentLinkRequest, DocumentSymbolRequest } from 'vscode-languageserver-protocol/node';
import { FIX_ALL_KIND, LARGE_DOCUMENT_CHARS, LIMIT_CODE, MAX_DIAGNOSTICS, MAX_DOCUMENT_LINKS } from '../../server/src/language';
import { TestClient } from '../helpers/lspClient';
import { tempDir } from '../helpers/videos';

let client: TestClient;
let dir: string;
before(async () => {
  dir = await tempDir('vscan-limits-');
  client = await TestClient.start();
});
after(async () => {
  await client.stop();
});

/** One block of `count` events in reverse order, each also reversed: two problems per event. */
function reversedEvents(count: number, pad = ''): string {
  const lines = ['Scene: x', 'Events:'];
  for (let i = count; i > 0; i--) lines.push(`<${i + 1}.0 - ${i}.0> e${pad}`);
  return lines.join('\n') + '\n';
}

test('a document with thousands of problems gets the first 1,000 and one summary; links are capped', async () => {
  const uri = pathToFileURL(join(dir, 'many.vscan')).href;
  await client.open(uri, reversedEvents(3000));
  const published = await client.diagnostics(uri, (p) => p.version === 1);
  assert.equal(published.diagnostics.length, MAX_DIAGNOSTICS + 1);
  const summary = published.diagnostics.at(-1)!;
  assert.equal(summary.code, LIMIT_CODE);
  assert.match(String(summary.message), /^[\d,]+ more problems are not shown/);
  const links = await client.connection.sendRequest(DocumentLinkRequest.type, { textDocument: { uri } });
  assert.equal(links!.length, MAX_DOCUMENT_LINKS);
  // The fix-all is offered by kind, and sorts the whole block in one edit.
  const actions = await client.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [], only: ['source.fixAll'] },
  });
  assert.deepEqual(actions!.map((a) => 'kind' in a && a.kind), [FIX_ALL_KIND]);
});

test('a file above the size limit is validated on open and on save, not on each change', async () => {
  const uri = pathToFileURL(join(dir, 'large.vscan')).href;
  const text = reversedEvents(Math.ceil(LARGE_DOCUMENT_CHARS / 60), 'x'.repeat(40));
  assert.ok(text.length > LARGE_DOCUMENT_CHARS);
  await client.open(uri, text, 1);
  const opened = await client.diagnostics(uri, (p) => p.version === 1);
  assert.equal(opened.diagnostics[0].code, LIMIT_CODE);
  assert.match(String(opened.diagnostics[0].message), /^This file is large \([\d.]+ M characters, above 2 M\): its problems are checked when it is opened or saved/);
  // Two edits, each followed by a request the server answers after handling it: no validation.
  const fix = (version: number) => client.change(uri, version, [{ range: { start: { line: 2, character: 1 }, end: { line: 2, character: 2 } }, text: '1' }]);
  // The first publication after version 1: a validation on change would be version 2.
  const firstAfterOpen = client.diagnostics(uri, (p) => p.version !== 1, 120_000);
  await fix(2);
  await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
  await fix(3);
  await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: { uri } });
  await client.connection.sendNotification(DidSaveTextDocumentNotification.type, { textDocument: { uri } });
  const saved = await firstAfterOpen;
  assert.equal(saved.version, 3, 'only the save validated');
  assert.equal(saved.diagnostics[0].code, LIMIT_CODE);
});
