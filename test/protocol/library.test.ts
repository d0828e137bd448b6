/**
 * The library over the real server (dist/server.js over stdio): workspace/symbol and
 * videoScan/searchLibrary from the workspace's .vscan files, open documents at their
 * version, file events, the index kept in the client's storage, thumbnails by trust.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProgressType } from 'vscode-languageserver-protocol/node';
import { DidChangeWorkspaceFoldersNotification, DidChangeWatchedFilesNotification, DidCloseTextDocumentNotification, FileChangeType, LogMessageNotification, type SymbolInformation, SymbolKind, WorkspaceSymbolRequest } from 'vscode-languageserver-protocol';
import { ExportAnnotationsRequest, ImportAnnotationsRequest, SearchLibraryRequest, ThumbnailRequest } from '../../server/src/lsp/libraryProtocol';
import { MAX_WORKSPACE_SYMBOLS } from '../../server/src/lsp/library';
import { TestClient } from '../helpers/lspClient';
import { tempTinyCheckpoint } from '../helpers/tinyModel';
import { makeVideo, tempDir } from '../helpers/videos';

async function workspace(): Promise<{ root: string; storage: string }> {
  const dir = await tempDir('vscan-library-lsp-');
  const root = join(dir, 'ws');
  await mkdir(join(root, 'clips'), { recursive: true });
  await writeFile(join(root, 'clips', 'beach.vscan'), 'Video: beach.mp4\n\nScene: A dog plays on a sunny beach.\nEvents:\n<0.0 - 2.0> the dog runs along the shore\n<2.0 - 4.5> the dog jumps into the water\n');
  await writeFile(join(root, 'kitchen.vscan'), 'Scene: Someone cooks breakfast.\nEvents:\n<0.0 - 3.0> opens the fridge\n<3.0 - 6.0> cracks two eggs into a pan\n');
  await writeFile(join(root, 'many.vscan'), 'Scene: Many.\nEvents:\n' + Array.from({ length: 400 }, (_, i) => `<${i} - ${i + 1}> parrot number ${i}`).join('\n') + '\n');
  return { root, storage: join(dir, 'storage') };
}

const symbols = (client: TestClient, query: string) => client.connection.sendRequest(WorkspaceSymbolRequest.type, { query }) as Promise<SymbolInformation[]>;

test('workspace/symbol: events by description and Scene paragraphs, with their file and line; bounded', async () => {
  const { root, storage } = await workspace();
  const client = await TestClient.start(undefined, 'stdio', { workspaceFolders: [root], initialization: { libraryStorage: storage } });
  try {
    const [jump] = await symbols(client, 'jumping dog');
    assert.equal(jump.name, 'the dog jumps into the water');
    assert.equal(jump.kind, SymbolKind.Event);
    assert.equal(jump.location.uri, pathToFileURL(join(root, 'clips', 'beach.vscan')).href);
    assert.equal(jump.location.range.start.line, 5);
    assert.equal(jump.containerName, '2–4.5 s');
    const scene = (await symbols(client, 'breakfast'))[0];
    assert.equal(scene.kind, SymbolKind.Namespace);
    assert.equal(scene.name, 'Someone cooks breakfast.');
    assert.equal((await symbols(client, 'parrot')).length, MAX_WORKSPACE_SYMBOLS);
    assert.deepEqual(await symbols(client, ''), []);
  } finally {
    await client.stop();
  }
});

test('open documents count at their version; closing goes back to the disk; file events add and remove files', async () => {
  const { root, storage } = await workspace();
  const client = await TestClient.start(undefined, 'stdio', { workspaceFolders: [root], initialization: { libraryStorage: storage } });
  try {
    const kitchen = pathToFileURL(join(root, 'kitchen.vscan')).href;
    await client.open(kitchen, 'Scene: Someone bakes.\nEvents:\n<0.0 - 3.0> kneads the dough\n');
    assert.equal((await symbols(client, 'dough'))[0]?.location.uri, kitchen);
    assert.deepEqual(await symbols(client, 'fridge'), [], 'the unsaved text replaces the file\'s in the index');
    await client.change(kitchen, 2, [{ text: 'Scene: x\nEvents:\n<1 - 2> whisks cream\n' }]);
    assert.equal((await symbols(client, 'whisk'))[0]?.location.range.start.line, 2);
    await client.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: kitchen } });
    assert.equal((await symbols(client, 'fridge'))[0]?.location.uri, kitchen, 'closed unsaved: the disk\'s text again');

    const added = join(root, 'clips', 'harbour.vscan');
    await writeFile(added, 'Scene: A harbour.\nEvents:\n<1 - 2> a ferry sounds its horn\n');
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(added).href, type: FileChangeType.Created }] });
    assert.equal((await symbols(client, 'ferry'))[0]?.location.uri, pathToFileURL(added).href);
    await rm(join(root, 'clips', 'beach.vscan'));
    await client.connection.sendNotification(DidChangeWatchedFilesNotification.type, { changes: [{ uri: pathToFileURL(join(root, 'clips', 'beach.vscan')).href, type: FileChangeType.Deleted }] });
    assert.deepEqual(await symbols(client, 'dog'), []);
  } finally {
    await client.stop();
  }
});

test('a folder added to the workspace is indexed; a folder removed leaves the index', async () => {
  const { root, storage } = await workspace();
  const other = join(root, '..', 'other');
  await mkdir(other);
  await writeFile(join(other, 'river.vscan'), 'Scene: A river.\nEvents:\n<1 - 2> an otter surfaces\n');
  const client = await TestClient.start(undefined, 'stdio', { workspaceFolders: [root], initialization: { libraryStorage: storage } });
  try {
    assert.deepEqual(await symbols(client, 'otter'), []);
    await client.connection.sendNotification(DidChangeWorkspaceFoldersNotification.type, {
      event: { added: [{ uri: pathToFileURL(other).href, name: 'other' }], removed: [{ uri: pathToFileURL(root).href, name: 'ws' }] },
    });
    assert.equal((await symbols(client, 'otter'))[0]?.location.uri, pathToFileURL(join(other, 'river.vscan')).href);
    assert.deepEqual(await symbols(client, 'dog'), []);
  } finally {
    await client.stop();
  }
});

test('videoScan/searchLibrary: results with URIs; the index is saved in the storage and read back, unchanged files not read again', async () => {
  const { root, storage } = await workspace();
  const first = await TestClient.start(undefined, 'stdio', { workspaceFolders: [root], initialization: { libraryStorage: storage } });
  let answer;
  try {
    answer = await first.connection.sendRequest(SearchLibraryRequest.type, { query: 'dog water', limit: 3 });
  } finally {
    await first.stop();
  }
  assert.deepEqual(answer.indexed, { files: 3, entries: 407 });
  assert.deepEqual(answer.results[0], {
    vscan: pathToFileURL(join(root, 'clips', 'beach.vscan')).href, video: pathToFileURL(join(root, 'clips', 'beach.mp4')).href,
    kind: 'event', line: 5, start: 2, end: 4.5, description: 'the dog jumps into the water', score: answer.results[0].score, grounded: false,
  });
  assert.ok(answer.results.length <= 3);
  const saved = await readdir(join(storage, 'search'));
  assert.equal(saved.length, 1);
  assert.equal(JSON.parse(await readFile(join(storage, 'search', saved[0]), 'utf8')).files.length, 3);

  const second = await TestClient.start(undefined, 'stdio', { workspaceFolders: [root], initialization: { libraryStorage: storage } });
  const logs: string[] = [];
  second.connection.onNotification(LogMessageNotification.method, (p: { message: string }) => { logs.push(p.message); });
  try {
    const again = await second.connection.sendRequest(SearchLibraryRequest.type, { query: 'dog water', limit: 3 });
    assert.deepEqual(again.results, answer.results);
    assert.ok(logs.some((l) => /library: 3 \.vscan files, 407 entries indexed \(0 read, 3 unchanged, 0 removed\)/.test(l)), logs.join('\n'));
  } finally {
    await second.stop();
  }
});

test('videoScan/thumbnail: a PNG in the storage when trusted; null untrusted (no ffmpeg runs) and for grounding, a refusal', async () => {
  const { root, storage } = await workspace();
  const video = await makeVideo(join(root, 'clips', 'beach.mp4'), 3, '160x120', 10);
  const trusted = await TestClient.start(undefined, 'stdio', { workspaceFolders: [root], initialization: { libraryStorage: storage } });
  try {
    const answer = await trusted.connection.sendRequest(ThumbnailRequest.type, { video: pathToFileURL(video).href, time: 1.5 });
    assert.ok(answer);
    const png = fileURLToPath(answer.file);
    assert.ok(png.startsWith(join(storage, 'thumbnails')));
    assert.deepEqual([...(await readFile(png)).subarray(1, 4)].map((c) => String.fromCharCode(c)).join(''), 'PNG');
    assert.ok((await stat(png)).size > 100);
    assert.equal(await trusted.connection.sendRequest(ThumbnailRequest.type, { video: pathToFileURL(join(root, 'none.mp4')).href, time: 1 }), null);
  } finally {
    await trusted.stop();
  }
  const untrusted = await TestClient.start(undefined, 'stdio', { workspaceFolders: [root], initialization: { libraryStorage: join(storage, 'u'), trusted: false } });
  try {
    assert.equal(await untrusted.connection.sendRequest(ThumbnailRequest.type, { video: pathToFileURL(video).href, time: 1.5 }), null);
    await assert.rejects(untrusted.connection.sendRequest(SearchLibraryRequest.type, { query: 'dog', ground: 2 }), /not trusted/);
    assert.equal((await untrusted.connection.sendRequest(SearchLibraryRequest.type, { query: 'dog' })).results.length, 3, 'text search works untrusted');
    await assert.rejects(stat(join(storage, 'u', 'thumbnails')), 'no thumbnail folder made');
  } finally {
    await untrusted.stop();
  }
});

test('videoScan/exportAnnotations and importAnnotations: files written by the server, never over a .vscan; errors are one line', async () => {
  const { root, storage } = await workspace();
  const client = await TestClient.start(undefined, 'stdio', { workspaceFolders: [root], initialization: { libraryStorage: storage } });
  try {
    const beach = pathToFileURL(join(root, 'clips', 'beach.vscan')).href;
    const text = await client.connection.sendRequest(ExportAnnotationsRequest.type, { source: beach, format: 'srt' });
    assert.match(text.text!, /^1\n00:00:00,000 --> 00:00:02,000\nthe dog runs along the shore\n/);
    const out = pathToFileURL(join(root, 'beach-copy.vtt')).href;
    assert.deepEqual((await client.connection.sendRequest(ExportAnnotationsRequest.type, { source: beach, format: 'vtt', out })).written, [out]);
    await assert.rejects(client.connection.sendRequest(ExportAnnotationsRequest.type, { source: beach, format: 'vtt', out }), /beach-copy\.vtt: exists; not replaced/);
    const imported = await client.connection.sendRequest(ImportAnnotationsRequest.type, { file: out });
    assert.deepEqual(imported.written, [pathToFileURL(join(root, 'beach-copy.vscan')).href]);
    assert.match(await readFile(join(root, 'beach-copy.vscan'), 'utf8'), /<2\.0 - 4\.5> the dog jumps into the water/);
    await assert.rejects(client.connection.sendRequest(ImportAnnotationsRequest.type, { file: out }), /beach-copy\.vscan: exists; a \.vscan is never replaced/);
    await assert.rejects(client.connection.sendRequest(ImportAnnotationsRequest.type, { file: pathToFileURL(join(root, 'kitchen.vscan')).href }), /kitchen\.vscan: no SRT cue could be read/);
  } finally {
    await client.stop();
  }
});

test('videoScan/searchLibrary with ground: the model (tiny checkpoint, its own process) checks the best hits through the job queue', async () => {
  const { root, storage } = await workspace();
  const { tiny } = await tempTinyCheckpoint('vscan-library-ground-', 5);
  await makeVideo(join(root, 'clips', 'beach.mp4'), 6, '64x48', 4);
  const client = await TestClient.start({ model: { path: tiny, executionProvider: 'cpu', maxNewTokens: 6 } }, 'stdio', { workspaceFolders: [root], initialization: { libraryStorage: storage } });
  try {
    const plain = await client.connection.sendRequest(SearchLibraryRequest.type, { query: 'dog', limit: 10 });
    const messages: string[] = [];
    client.connection.onProgress(new ProgressType<{ message?: string }>(), 'ground-1', (value) => { if (value.message) messages.push(value.message); });
    const grounded = await client.connection.sendRequest(SearchLibraryRequest.type, { query: 'dog', limit: 10, ground: 2, workDoneToken: 'ground-1' });
    const key = (r: { vscan: string; line: number }) => `${r.vscan}:${r.line}`;
    assert.deepEqual(grounded.results.map(key).sort(), plain.results.map(key).sort(), 'the same hits, re-ranked');
    const firstUngrounded = grounded.results.findIndex((r) => !r.grounded);
    assert.ok(firstUngrounded === -1 || grounded.results.slice(firstUngrounded).every((r) => !r.grounded), 'confirmed hits lead');
    for (const r of grounded.results) if (r.span) assert.ok(r.span.length === 2 && r.span.every(Number.isFinite));
    // Both asked hits are in beach.vscan (its video exists): each window was asked, in order.
    assert.deepEqual(messages, ['beach.mp4 0–17 s', 'beach.mp4 0–20 s'].slice(0, messages.length));
    assert.equal(messages.length, 2, messages.join(' | '));
  } finally {
    await client.stop();
  }
});
