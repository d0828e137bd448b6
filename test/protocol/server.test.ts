import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  CodeActionRequest,
  CompletionRequest,
  DocumentFormattingRequest,
  DocumentLinkRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  HoverRequest,
} from 'vscode-languageserver-protocol/node';
import { TestClient } from '../helpers/lspClient';
import { makeVideo, probeThroughWorker, tempDir } from '../helpers/videos';

let client: TestClient;
let dir: string;

before(async () => {
  dir = await tempDir();
  await makeVideo(join(dir, 'clip.mp4'), 3);
  client = await TestClient.start();
});

after(async () => {
  assert.equal(await client.stop(), 0);
});

const codesOf = (p: { diagnostics: { code?: string | number }[] }) => p.diagnostics.map((d) => d.code);

test('publishes diagnostics with stable codes on open, and fresh ones after didChange', async () => {
  const uri = pathToFileURL(join(dir, 'clip.vscan')).href;
  await client.open(uri, 'Scene: x\nEvents:\n<0.0 - 1.0> a\n<2.0 - 1.5> b\n<2.0 - 9.0> c\n');
  const first = await client.diagnostics(uri, (p) => p.version === 1 && codesOf(p).includes('out-of-range'));
  assert.deepEqual(codesOf(first), ['reversed-span', 'out-of-range']);
  // One character: `9.0` → `2.0` fixes the range error and makes the span empty.
  await client.change(uri, 2, [{ range: { start: { line: 4, character: 7 }, end: { line: 4, character: 8 } }, text: '2' }]);
  const second = await client.diagnostics(uri, (p) => p.version === 2);
  assert.deepEqual(codesOf(second), ['reversed-span', 'empty-span']);
});

test('missing-video points at the Video header, related information at the other event', async () => {
  const uri = pathToFileURL(join(dir, 'other.vscan')).href;
  await client.open(uri, 'Video: nowhere.mp4\nScene: x\nEvents:\n<0.0 - 2.0> a\n<1.0 - 3.0> b\n');
  const result = await client.diagnostics(uri);
  assert.deepEqual(codesOf(result), ['missing-video', 'overlap']);
  assert.equal(result.diagnostics[1].relatedInformation?.[0].location.uri, uri);
});

test('a document without a file path gets no-video and no crash', async () => {
  const uri = 'untitled:Untitled-1';
  await client.open(uri, 'Scene: x\nEvents:\n<0 - 1> a\n');
  assert.deepEqual(codesOf(await client.diagnostics(uri)), ['no-video']);
});

test('language features over the protocol', async () => {
  const uri = pathToFileURL(join(dir, 'features.vscan')).href;
  await client.open(uri, 'Video: clip.mp4\nScene: x\nEvents: <2.0 - 1.0> a\n<1.0 - 2.0> b\n');
  const diagnostics = (await client.diagnostics(uri)).diagnostics;
  const c = client.connection;
  const doc = { uri };
  const actions = await c.sendRequest(CodeActionRequest.type, { textDocument: doc, range: diagnostics[0].range, context: { diagnostics } });
  assert.ok(actions?.some((a) => a.title === 'Swap start and end'));
  const edits = await c.sendRequest(DocumentFormattingRequest.type, { textDocument: doc, options: { tabSize: 2, insertSpaces: true } });
  assert.equal(edits?.[0].newText, 'Events:\n<2.0 - 1.0> a');
  const symbols = await c.sendRequest(DocumentSymbolRequest.type, { textDocument: doc });
  assert.equal(symbols?.length, 2);
  const folds = await c.sendRequest(FoldingRangeRequest.type, { textDocument: doc });
  assert.deepEqual(folds?.map((f) => [f.startLine, f.endLine]), [[1, 3], [2, 3]]);
  const hover = await c.sendRequest(HoverRequest.type, { textDocument: doc, position: { line: 3, character: 2 } });
  assert.match(JSON.stringify(hover?.contents), /of the 3 s video/);
  const links = await c.sendRequest(DocumentLinkRequest.type, { textDocument: doc });
  assert.equal(links?.length, 5);
  const completion = await c.sendRequest(CompletionRequest.type, { textDocument: doc, position: { line: 4, character: 0 } });
  assert.ok(Array.isArray(completion) && completion.length === 1);
});

test('a linked file that is not a video is reported, not fatal', async () => {
  await writeFile(join(dir, 'fake.mp4'), 'this is text, not a video\n');
  const uri = pathToFileURL(join(dir, 'fake.vscan')).href; // linked implicitly by base name
  await client.open(uri, 'Scene: x\nEvents:\n<0 - 100> a\n');
  const result = await client.diagnostics(uri, (p) => codesOf(p).includes('unreadable-video'));
  assert.deepEqual(codesOf(result), ['unreadable-video']);
  assert.match(result.diagnostics[0].message as string, /fake\.mp4/);
});

test('requests on unknown documents answer empty instead of failing', async () => {
  const doc = { uri: 'file:///nowhere/never-opened.vscan' };
  assert.deepEqual(await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument: doc }), []);
  assert.equal(await client.connection.sendRequest(HoverRequest.type, { textDocument: doc, position: { line: 0, character: 0 } }), null);
});

test('settings from initializationOptions change severities', async () => {
  const other = await TestClient.start({ diagnostics: { severity: { 'no-video': 'off', 'empty-span': 'error' } } });
  try {
    const uri = 'untitled:settings';
    await other.open(uri, 'Scene: x\nEvents:\n<1 - 1> a\n');
    const result = await other.diagnostics(uri);
    assert.deepEqual(result.diagnostics.map((d) => [d.code, d.severity]), [['empty-span', 1]]);
  } finally {
    await other.stop();
  }
});

test('the same server over node IPC, as the VS Code client starts it', async () => {
  const ipc = await TestClient.start(undefined, 'node-ipc');
  try {
    await ipc.open('untitled:ipc', 'Scene: x\nEvents:\n<2 - 1> a\n');
    assert.deepEqual(codesOf(await ipc.diagnostics('untitled:ipc')), ['no-video', 'reversed-span']);
  } finally {
    await ipc.stop();
  }
});

test('a slow probe does not hold diagnostics back; they are refreshed when it lands', async () => {
  // An ffprobe that takes a second: a wrapper script around the media worker's probe.
  const slow = join(dir, 'slow-ffprobe');
  await writeFile(slow, `#!/bin/sh\nsleep 1\n${probeThroughWorker()}\n`);
  await chmod(slow, 0o755);
  const other = await TestClient.start({ ffprobe: { path: slow } });
  try {
    const uri = pathToFileURL(join(dir, 'clip.vscan')).href;
    const started = Date.now();
    await other.open(uri, 'Scene: x\nEvents:\n<0.0 - 9.0> past the end of a 3 s video\n');
    const first = await other.diagnostics(uri);
    assert.deepEqual(codesOf(first), [], 'published before the probe finished, without range checks');
    assert.ok(Date.now() - started < 1000, 'did not wait for the probe');
    const refreshed = await other.diagnostics(uri, (p) => codesOf(p).includes('out-of-range'));
    assert.deepEqual(codesOf(refreshed), ['out-of-range']);
  } finally {
    await other.stop();
  }
});
