/** Quick fixes for the diagnostics of diagnostics.ts, driven by the data they carry. */
import { type CodeAction, CodeActionKind, type Diagnostic, type TextEdit } from 'vscode-languageserver-types';
import type { DocumentContext } from './context';
import type { DiagnosticData } from './diagnostics';
import { DIAGNOSTIC_SOURCE } from './diagnostics';
import { type EventEntry, LineKind, type VscanDocument } from './document';
import { timeAt } from './navigation';
import { findHeader } from './parser';
import { rankBySimilarity } from './similarity';
import type { VscanSettings } from './settings';
import { describeSeconds, formatTime } from './time';

const MAX_VIDEO_SUGGESTIONS = 5;

function fix(title: string, uri: string, edits: TextEdit[], diagnostic: Diagnostic, preferred = false): CodeAction {
  return { title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: preferred, edit: { changes: { [uri]: edits } } };
}

/** The event a diagnostic was reported on, if the document still has it where it was. */
function eventOf(doc: VscanDocument, index: number | undefined, line: number): EventEntry | undefined {
  const event = index === undefined ? undefined : doc.events[index];
  return event && event.line === line ? event : undefined;
}

function eventAtRange(doc: VscanDocument, diagnostic: Diagnostic): EventEntry | undefined {
  const { line, character } = diagnostic.range.start;
  return doc.events.find((e) => e.line === line && e.range.start.character === character);
}

/** Rewrites the event lines of a block in start order; comment and blank lines stay put. */
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
  const edits: TextEdit[] = [];
  sorted.forEach((e, slot) => {
    const line = lines[slot];
    if (e.line !== line) {
      edits.push({ range: { start: { line, character: 0 }, end: { line, character: doc.lines[line].length } }, newText: doc.lines[e.line] });
    }
  });
  return edits;
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

export function codeActionsFor(doc: VscanDocument, uri: string, diagnostics: Diagnostic[], context: DocumentContext, settings: VscanSettings): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const diagnostic of diagnostics) {
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
        const edits = event && sortBlockEdits(doc, event);
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

/** The kind of the fix-all action (`editor.codeActionsOnSave: {"source.fixAll.vscan": "explicit"}`). */
export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.vscan`;

/**
 * One action applying every safe fix at once: the preferred quick fixes (swap a reversed
 * span, remove a duplicate, clamp to the video's end, trims that keep most of the event).
 * Edits that would touch a range another fix already edits are left for another pass.
 */
export function fixAllAction(doc: VscanDocument, uri: string, diagnostics: Diagnostic[], context: DocumentContext, settings: VscanSettings): CodeAction | undefined {
  const edits: TextEdit[] = [];
  const touched: { line: number; from: number; to: number }[] = [];
  const overlaps = (e: TextEdit) => touched.some((t) => t.line === e.range.start.line && e.range.start.character < t.to && t.from < Math.max(e.range.end.character, e.range.start.character + 1));
  for (const action of codeActionsFor(doc, uri, diagnostics, context, settings)) {
    if (!action.isPreferred) continue;
    const change = action.edit?.changes?.[uri] ?? [];
    if (change.some(overlaps) || change.some((e) => e.range.start.line !== e.range.end.line && e.newText !== '')) continue;
    for (const e of change) {
      edits.push(e);
      touched.push({ line: e.range.start.line, from: e.range.start.character, to: e.range.end.line > e.range.start.line ? Number.MAX_SAFE_INTEGER : Math.max(e.range.end.character, e.range.start.character + 1) });
    }
  }
  return edits.length ? { title: `Fix all safe problems (${edits.length} edits)`, kind: FIX_ALL_KIND, edit: { changes: { [uri]: edits } } } : undefined;
}
