/**
 * A seeded fuzz test of the server over the protocol (issue 11): random edits and every
 * request, including code actions over all published diagnostics and the fix-all, whose
 * edits are applied back. Bounded in steps; checks that the server never fails a handler
 * or exits, stays within a memory bound, and ends with the diagnostics a fresh parse gives.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  CodeActionRequest,
  CompletionRequest,
  type Diagnostic,
  DocumentFormattingRequest,
  DocumentLinkRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  HoverRequest,
  LogMessageNotification,
  MessageType,
  type TextEdit,
} from 'vscode-languageserver-protocol/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { capDiagnostics, DEFAULT_SETTINGS, FIX_ALL_KIND, parseVscan, validateVscan } from '../../server/src/language';
import { ProbeCache } from '../../server/src/video/probe';
import { resolveDocumentContext } from '../../server/src/workspace/videoContext';
import { TestClient } from '../helpers/lspClient';
import { tempDir } from '../helpers/videos';

/** mulberry32: a small seeded generator, so a failure replays exactly. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  'Scene: ', 'Scene <0.0 - 10.0>: ', 'Events:\n', '<1.0 - 2.0> a\n', '<5 - 3> reversed\n', '<1:75 - x> bad\n', '<2.0 - 2.0>\n',
  '<0.5 - 4.0> overlap\n', '<1.0 - 2.0> a\n', '\n', '\n\n', '# comment\n', 'Video: clip.mp4\n', 'Video: \n', 'Model: x\n', '<', '>', ' - ',
  '0.5', '12:30.25', '-1.0', '\r\n', 'é', '😀', '\t', 'text after ', '<9999 - 99999> far\n',
];

/** Many unsorted, reversed and duplicate events at once: enough to reach the per-document caps. */
const BULK = Array.from({ length: 1200 }, (_, i) => `<${1200 - i}.0 - ${i % 3 ? 1200 - i + 1 : 1200 - i - 1}.0> bulk ${i % 7}\n`).join('');

const STEPS = 1500;
const MAX_RSS_MB = 600;

function rssMb(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024;
}

test('fuzz: random edits and requests never fail the server, and its last diagnostics equal a fresh parse', { timeout: 300_000 }, async () => {
  const next = random(Number(process.env.FUZZ_SEED ?? 20261130)); // FUZZ_SEED=n tries another sequence
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const dir = await tempDir('vscan-fuzz-');
  const uri = pathToFileURL(join(dir, 'fuzz.vscan')).href;
  const client = await TestClient.start();
  const failures: string[] = [];
  client.connection.onNotification(LogMessageNotification.type, (message) => {
    if (message.type === MessageType.Error) failures.push(message.message);
  });
  let doc = TextDocument.create(uri, 'vscan', 1, 'Scene: start\nEvents:\n<1.0 - 2.0> a\n<0.5 - 1.5> b\n');
  await client.open(uri, doc.getText(), 1);
  let peakRss = 0;
  try {

    /**
     * A random position inside the current text, never between the two halves of a
     * surrogate pair: an editor never puts one there, and a lone surrogate does not survive
     * the protocol's UTF-8 (it arrives as U+FFFD), so the two sides' texts would differ.
     */
    const position = () => {
      const text = doc.getText();
      let offset = Math.floor(next() * (text.length + 1));
      if (offset > 0 && offset < text.length && /[\udc00-\udfff]/.test(text[offset]) && /[\ud800-\udbff]/.test(text[offset - 1])) offset--;
      return doc.positionAt(offset);
    };

    /** Sends `edits` (non-overlapping, on the current text) as one incremental change, and mirrors them locally. */
    async function applyEdits(edits: TextEdit[]): Promise<void> {
      // Last first, so each change's range is still valid when it is applied.
      const ordered = [...edits].sort((a, b) => doc.offsetAt(b.range.start) - doc.offsetAt(a.range.start));
      const changes = ordered.map((e) => ({ range: e.range, text: e.newText }));
      const version = doc.version + 1;
      doc = TextDocument.update(doc, changes, version);
      await client.change(uri, version, changes);
    }

    for (let step = 0; step < STEPS; step++) {
      const roll = next();
      if (roll < 0.5) {
        const start = position();
        const end = next() < 0.7 ? start : position();
        const [from, to] = doc.offsetAt(end) < doc.offsetAt(start) ? [end, start] : [start, end];
        const text = next() < 0.2 ? '' : next() < 0.01 ? BULK : pick(FRAGMENTS);
        await applyEdits([{ range: { start: from, end: to }, newText: text }]);
      } else if (roll < 0.7) {
        // Code actions over every diagnostic published so far (stale ones included, as a client may send).
        const published = (await client.diagnostics(uri, () => true).catch(() => undefined))?.diagnostics ?? [];
        const only = next() < 0.3 ? [FIX_ALL_KIND] : undefined;
        const actions = await client.connection.sendRequest(CodeActionRequest.type, {
          textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: doc.positionAt(doc.getText().length) }, context: { diagnostics: published as Diagnostic[], only },
        });
        const action = actions && actions.length ? pick(actions) : undefined;
        const edits = action && 'edit' in action ? action.edit?.changes?.[uri] : undefined;
        if (edits?.length && next() < 0.5) await applyEdits(edits);
      } else if (roll < 0.75) {
        const edits = await client.connection.sendRequest(DocumentFormattingRequest.type, { textDocument: { uri }, options: { tabSize: 2, insertSpaces: true } });
        if (edits?.length && next() < 0.5) await applyEdits(edits);
      } else {
        const which = Math.floor(next() * 5);
        const textDocument = { uri };
        if (which === 0) await client.connection.sendRequest(HoverRequest.type, { textDocument, position: position() });
        else if (which === 1) await client.connection.sendRequest(CompletionRequest.type, { textDocument, position: position() });
        else if (which === 2) await client.connection.sendRequest(DocumentSymbolRequest.type, { textDocument });
        else if (which === 3) await client.connection.sendRequest(FoldingRangeRequest.type, { textDocument });
        else await client.connection.sendRequest(DocumentLinkRequest.type, { textDocument });
      }
      if (step % 50 === 0) peakRss = Math.max(peakRss, rssMb(client.process.pid!));
    }

    const final = await client.diagnostics(uri, (p) => p.version === doc.version);
    const parsed = parseVscan(doc.getText());
    const { context } = await resolveDocumentContext(parsed, join(dir, 'fuzz.vscan'), { probes: new ProbeCache(), probeWaitMs: Infinity });
    const expected = capDiagnostics(validateVscan(parsed, context, DEFAULT_SETTINGS, uri));
    // This found a race: a validation published the diagnostics of the text before a change under the changed version.
    assert.deepEqual(JSON.parse(JSON.stringify(final.diagnostics)), JSON.parse(JSON.stringify(expected)));
    peakRss = Math.max(peakRss, rssMb(client.process.pid!));
    assert.deepEqual(failures, [], 'a handler failed');
    assert.equal(client.process.exitCode, null, 'the server exited');
    assert.ok(peakRss < MAX_RSS_MB, `server RSS ${peakRss.toFixed(0)} MB`);
  } finally {
    if (client.process.exitCode === null) assert.equal(await client.stop(), 0);
  }
});
