/** Quick fixes for the diagnostics of diagnostics.ts, driven by the data they carry. */
import { type CodeAction, CodeActionKind, type Diagnostic, type TextEdit } from 'vscode-languageserver-types';
import type { DocumentContext } from './context';
import type { DiagnosticData } from './diagnostics';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import { type EventEntry, LineKind, type SceneBlock, type VscanDocument } from './document';
import { firstAtOrAfterLine, timeAt } from './navigation';
import { findHeader } from './parser';
import { rankBySimilarity } from './similarity';
import type { VscanSettings } from './settings';
import { describeSeconds, formatTime } from './time';

const MAX_VIDEO_SUGGESTIONS = 5;

/**
 * At most this many diagnostics are turned into quick fixes per request. A client may send
 * every diagnostic of a huge file at once (VS Code does for a selection); beyond this, the
 * fix-all (source.fixAll) is the tool, and a request stays bounded whatever the selection.
 */
export const MAX_QUICK_FIX_DIAGNOSTICS = 1000;

/** The kind of the fix-all, as `editor.codeActionsOnSave` names it (`source.fixAll.vscan`). */
export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.vscan`;

function fix(title: string, uri: string, edits: TextEdit[], diagnostic: Diagnostic, preferred = false): CodeAction {
  return { title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: preferred, edit: { changes: { [uri]: edits } } };
}

/** The event a diagnostic was reported on, if the document still has it where it was. */
function eventOf(doc: VscanDocument, index: number | undefined, line: number): EventEntry | undefined {
  const event = index === undefined ? undefined : doc.events[index];
  return event && event.line === line ? event : undefined;
}

/** The event whose span starts where the diagnostic does: a binary search, events being in line order. */
function eventAtRange(doc: VscanDocument, diagnostic: Diagnostic): EventEntry | undefined {
  const { line, character } = diagnostic.range.start;
  for (let i = firstAtOrAfterLine(doc.events, line); i < doc.events.length && doc.events[i].line === line; i++) {
    if (doc.events[i].open === character) return doc.events[i];
  }
  return undefined;
}

/**
 * Rewrites the event lines of a block in start order; comment and blank lines stay put.
 * One edit from the first line that moves to the last, so the answer is about the size of
 * the block, whatever the number of events.
 */
function sortBlockEdits(doc: VscanDocument, event: EventEntry): TextEdit[] | undefined {
  const lines: number[] = [];
  const firstOnLine: EventEntry[] = [];
  for (const e of event.block.events) {
    if (doc.lineKinds[e.line] !== LineKind.Event) return undefined; // events on the Events:/Scene line: format first
    if (lines[lines.length - 1] !== e.line) {
      lines.push(e.line);
      firstOnLine.push(e);
    }
  }
  const sorted = [...firstOnLine].sort((a, b) => (a.start.value ?? Infinity) - (b.start.value ?? Infinity)
    || (a.end.value ?? Infinity) - (b.end.value ?? Infinity) || a.index - b.index);
  const moved = new Map<number, string>(); // line → the text it gets
  sorted.forEach((e, slot) => {
    if (e.line !== lines[slot]) moved.set(lines[slot], doc.lines[e.line]);
  });
  if (!moved.size) return [];
  const changed = lines.filter((line) => moved.has(line)); // ascending, as the block's lines are
  const first = changed[0];
  const last = changed[changed.length - 1];
  const text: string[] = [];
  for (let line = first; line <= last; line++) text.push(moved.get(line) ?? doc.lines[line]);
  return [{ range: { start: { line: first, character: 0 }, end: { line: last, character: doc.lines[last].length } }, newText: text.join(doc.eol) }];
}

function removeEventEdit(doc: VscanDocument, event: EventEntry): TextEdit {
  if (event.ownsLine && event.line + 1 < doc.lines.length) {
    return { range: { start: { line: event.line, character: 0 }, end: { line: event.line + 1, character: 0 } }, newText: '' };
  }
  if (event.ownsLine) {
    return { range: { start: { line: event.line, character: 0 }, end: { line: event.line, character: doc.lines[event.line].length } }, newText: '' };
  }
  const text = doc.lines[event.line];
  let end = event.fullRange.end.character;
  while (end < text.length && (text[end] === ' ' || text[end] === '\t')) end++;
  return { range: { start: event.fullRange.start, end: { line: event.line, character: end } }, newText: '' };
}

function linkVideoActions(doc: VscanDocument, uri: string, diagnostic: Diagnostic, context: DocumentContext): CodeAction[] {
  const header = findHeader(doc, 'video');
  // Most like the missing name (or the document's own) first, then Browse… for anywhere else.
  const wanted = header?.value || uri.slice(uri.lastIndexOf('/') + 1).replace(/\.vscan$/i, '');
  const ranked = rankBySimilarity(wanted, context.siblingVideos ?? []).slice(0, MAX_VIDEO_SUGGESTIONS);
  const browse: CodeAction = { title: 'Link video… (browse)', kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], command: { title: 'Link video…', command: 'videoScan.linkVideo', arguments: [uri] } };
  return [...ranked.map((name) => {
    const edit: TextEdit = header
      ? { range: header.valueRange, newText: name }
      : { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: `Video: ${name}${doc.eol}` };
    return fix(`Link video ${name}`, uri, [edit], diagnostic);
  }), browse];
}

/** Whether a request restricted to `only` kinds wants actions of `kind` (a prefix match, as LSP defines it). */
function wants(only: readonly string[] | undefined, kind: string): boolean {
  return !only || only.some((k) => kind === k || kind.startsWith(`${k}.`));
}

/** Whether a block's events are out of start order (what the `unsorted` diagnostic reports). */
function isUnsorted(block: SceneBlock): boolean {
  let previous: number | undefined;
  for (const event of block.events) {
    if (event.startValue === undefined || event.endValue === undefined) continue;
    if (previous !== undefined && event.startValue < previous) return true;
    previous = event.startValue;
  }
  return false;
}

/** What the fix-all did in one block. */
interface BlockFix {
  edit: TextEdit;
  swapped: number;
  removed: number;
  sorted: boolean;
}

/**
 * The safe fixes of one block, as one edit from its first event line to its last: reversed
 * spans swapped, exact duplicates (same span and description as an earlier event of the
 * block) removed, and the events sorted by start time; comment and blank lines stay put.
 * A block with several events on one line is only sorted (as its quick fix does), and one
 * with events on its `Events:` line is left to the formatter.
 */
function fixBlock(doc: VscanDocument, block: SceneBlock): BlockFix | undefined {
  const events = block.events;
  if (!events.length) return undefined;
  if (events.some((e) => !e.ownsLine)) {
    const edits = isUnsorted(block) ? sortBlockEdits(doc, events[0]) : undefined;
    return edits?.length ? { edit: edits[0], swapped: 0, removed: 0, sorted: true } : undefined;
  }
  if (events.some((e) => doc.lineKinds[e.line] !== LineKind.Event)) return undefined;
  const seen = new Set<string>();
  let swapped = 0;
  let removed = 0;
  const kept: { text: string; start: number; end: number; order: number }[] = [];
  for (const e of events) {
    let text = doc.lines[e.line];
    let start = e.startValue ?? Infinity;
    let end = e.endValue ?? Infinity;
    if (e.startValue !== undefined && e.endValue !== undefined && e.endValue < e.startValue) {
      const s = e.start;
      const t = e.end;
      // The start token comes before the end token on the line.
      text = text.slice(0, s.range.start.character) + t.text + text.slice(s.range.end.character, t.range.start.character) + s.text + text.slice(t.range.end.character);
      [start, end] = [end, start];
      swapped++;
    }
    if (Number.isFinite(start) && Number.isFinite(end)) {
      const key = `${start}\0${end}\0${e.description}`;
      if (seen.has(key)) {
        removed++;
        continue;
      }
      seen.add(key);
    }
    kept.push({ text, start, end, order: kept.length });
  }
  const order = [...kept].sort((a, b) => a.start - b.start || a.end - b.end || a.order - b.order);
  const sorted = order.some((entry, i) => entry.order !== i);
  if (!swapped && !removed && !sorted) return undefined;
  // Event lines take the kept events in order; slots left over (removed duplicates) go.
  const first = events[0].line;
  const last = events[events.length - 1].line;
  const out: string[] = [];
  let slot = 0;
  for (let line = first; line <= last; line++) {
    if (doc.lineKinds[line] !== LineKind.Event) out.push(doc.lines[line]);
    else if (slot < order.length) out.push(order[slot++].text);
    else slot++;
  }
  const edit = { range: { start: { line: first, character: 0 }, end: { line: last, character: doc.lines[last].length } }, newText: out.join(doc.eol) };
  return { edit, swapped, removed, sorted };
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The fix-all (`source.fixAll.vscan`, e.g. on save): the fixes whose intent is not in doubt —
 * swap reversed spans, remove exact duplicates within a block, sort each block by start
 * time. Clamping, trimming an overlap and linking a video change what an annotation says, so
 * they stay quick fixes chosen by hand. One pass over the document, one edit per block.
 */
export function fixAllAction(doc: VscanDocument, uri: string): CodeAction | undefined {
  const edits: TextEdit[] = [];
  let swapped = 0;
  let removed = 0;
  let sorted = 0;
  for (const block of doc.blocks) {
    const fixed = fixBlock(doc, block);
    if (!fixed) continue;
    edits.push(fixed.edit);
    swapped += fixed.swapped;
    removed += fixed.removed;
    if (fixed.sorted) sorted++;
  }
  if (!edits.length) return undefined;
  const parts = [
    swapped ? `swap ${count(swapped, 'reversed span', 'reversed spans')}` : '',
    removed ? `remove ${count(removed, 'duplicate', 'duplicates')}` : '',
    sorted ? `sort ${count(sorted, 'block', 'blocks')} by start time` : '',
  ].filter(Boolean);
  return { title: `Fix all: ${parts.join(', ')}`, kind: FIX_ALL_KIND, edit: { changes: { [uri]: edits } } };
}

/**
 * Quick fixes for the given diagnostics, plus the fix-all when `only` asks for it. Linear:
 * a block's sort is offered once however many of its events are reported, and at most
 * MAX_QUICK_FIX_DIAGNOSTICS diagnostics are looked at.
 */
export function codeActionsFor(doc: VscanDocument, uri: string, diagnostics: Diagnostic[], context: DocumentContext, settings: VscanSettings, only?: readonly string[]): CodeAction[] {
  const actions: CodeAction[] = [];
  if (wants(only, FIX_ALL_KIND) && only) { // the fix-all is only computed when asked for by kind
    const all = fixAllAction(doc, uri);
    if (all) actions.push(all);
  }
  if (!wants(only, CodeActionKind.QuickFix)) return actions;
  const sortedBlocks = new Set<SceneBlock>();
  for (const diagnostic of diagnostics.slice(0, MAX_QUICK_FIX_DIAGNOSTICS)) {
    if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
    const data = diagnostic.data as DiagnosticData | undefined;
    const line = diagnostic.range.start.line;
    switch (diagnostic.code) {
      case 'out-of-range': {
        if (data?.kind !== 'clamp') break;
        const at = timeAt(doc, diagnostic.range.start);
        if (!at) break;
        const digits = Math.max(1, at.token.fractionDigits);
        const scale = 10 ** digits;
        const clamped = Math.floor(data.durationSec * scale) / scale; // round down: never past the end
        const newText = formatTime(clamped, settings.timeStyle, digits);
        actions.push(fix(`Clamp to the video's end (${newText})`, uri, [{ range: at.token.range, newText }], diagnostic, true));
        break;
      }
      case 'reversed-span': {
        const event = eventAtRange(doc, diagnostic);
        if (!event) break;
        actions.push(fix('Swap start and end', uri, [
          { range: event.start.range, newText: event.end.text },
          { range: event.end.range, newText: event.start.text },
        ], diagnostic, true));
        break;
      }
      case 'overlap': {
        if (data?.kind !== 'overlap') break;
        const later = eventOf(doc, data.laterEvent, line);
        const earlier = later && doc.events[data.earlierEvent];
        if (!later || !earlier) break;
        // Trimming must not quietly shrink an event to a sliver: say what is left, and let
        // a trim that keeps under a quarter of the event be chosen only by hand.
        const before = (earlier.endValue ?? 0) - (earlier.startValue ?? 0);
        const left = (later.startValue ?? 0) - (earlier.startValue ?? 0);
        const sliver = before > 0 && left < before / 4;
        actions.push(fix(`Trim the event on line ${earlier.line + 1} to end at ${later.start.text}${sliver ? ` (leaves ${describeSeconds(Math.max(0, left))} of ${describeSeconds(before)})` : ''}`, uri,
          [{ range: earlier.end.range, newText: later.start.text }], diagnostic, !sliver));
        break;
      }
      case 'unsorted': {
        const event = data?.kind === 'event' ? eventOf(doc, data.event, line) : undefined;
        if (!event || sortedBlocks.has(event.block)) break; // one sort per block: each would rewrite the whole block
        sortedBlocks.add(event.block);
        const edits = sortBlockEdits(doc, event);
        if (edits?.length) actions.push(fix('Sort the events of this block by start time', uri, edits, diagnostic));
        break;
      }
      case 'duplicate-event': {
        const event = data?.kind === 'event' ? eventOf(doc, data.event, line) : undefined;
        if (event) actions.push(fix('Remove the duplicate event', uri, [removeEventEdit(doc, event)], diagnostic, true));
        break;
      }
      case 'missing-video':
      case 'no-video':
        actions.push(...linkVideoActions(doc, uri, diagnostic, context));
        break;
    }
  }
  return actions;
}
