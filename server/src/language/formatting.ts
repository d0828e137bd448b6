/**
 * Formatting: normalises spacing, puts one event per line and writes every time in one
 * style. Descriptions and Scene text are kept exactly (only surrounding whitespace goes).
 * A line with a parse problem is only stripped of trailing whitespace, so formatting
 * never rewrites what it could not read. Idempotent (checked by the fuzz test).
 */
import type { TextEdit } from 'vscode-languageserver-types';
import { type EventEntry, LineKind, type Span, type TimeToken, type VscanDocument } from './document';
import type { VscanSettings } from './settings';
import { formatTime } from './time';

function time(token: TimeToken, style: VscanSettings['timeStyle']): string {
  return token.value === undefined ? token.text : formatTime(token.value, style, token.fractionDigits);
}

export function formatSpan(span: Span, style: VscanSettings['timeStyle']): string {
  return `<${time(span.start, style)} - ${time(span.end, style)}>`;
}

function eventLine(event: EventEntry, style: VscanSettings['timeStyle']): string {
  const span = formatSpan(event, style);
  return event.description ? `${span} ${event.description}` : span;
}

/** The formatted text of each line (a line may become several). */
export function formatLines(doc: VscanDocument, settings: Pick<VscanSettings, 'timeStyle'>): string[][] {
  const style = settings.timeStyle;
  const troubled = new Set<number>();
  for (const problem of doc.problems) troubled.add(problem.range.start.line);
  const eventsByLine = new Map<number, EventEntry[]>();
  for (const event of doc.events) {
    const list = eventsByLine.get(event.line);
    if (list) list.push(event);
    else eventsByLine.set(event.line, [event]);
  }
  const blockByLine = new Map(doc.blocks.map((b) => [b.line, b]));
  const headerByLine = new Map(doc.headers.map((h) => [h.line, h]));
  const out: string[][] = [];
  for (let line = 0; line < doc.lines.length; line++) {
    const text = doc.lines[line];
    const events = (eventsByLine.get(line) ?? []).map((e) => eventLine(e, style));
    if (troubled.has(line)) {
      out.push([text.trimEnd()]);
      continue;
    }
    switch (doc.lineKinds[line]) {
      case LineKind.Blank:
        out.push(['']);
        break;
      case LineKind.Comment:
      case LineKind.Think:
      case LineKind.SceneText:
        out.push([text.trim()]);
        break;
      case LineKind.Header: {
        const header = headerByLine.get(line)!;
        out.push([header.value ? `${header.key}: ${header.value}` : `${header.key}:`]);
        break;
      }
      case LineKind.Scene: {
        const block = blockByLine.get(line)!;
        const window = block.window ? ' ' + formatSpan(block.window, style) : '';
        const head = `Scene${window}:${block.headText ? ' ' + block.headText : ''}`;
        out.push(block.eventsLine === line ? [head, 'Events:', ...events] : [head]);
        break;
      }
      case LineKind.Events:
        out.push(['Events:', ...events]);
        break;
      case LineKind.Event:
        out.push(events);
        break;
      default:
        out.push([text.trimEnd()]);
    }
  }
  return out;
}

/** Minimal edits: one per line whose text changes. */
export function formatVscan(doc: VscanDocument, settings: Pick<VscanSettings, 'timeStyle'>): TextEdit[] {
  const edits: TextEdit[] = [];
  formatLines(doc, settings).forEach((lines, line) => {
    const original = doc.lines[line];
    if (lines.length === 1 && lines[0] === original) return;
    edits.push({
      range: { start: { line, character: 0 }, end: { line, character: original.length } },
      newText: lines.join(doc.eol),
    });
  });
  return edits;
}

/** The whole formatted text (for the CLI). Keeps the file's end-of-line style. */
export function formatVscanText(doc: VscanDocument, settings: Pick<VscanSettings, 'timeStyle'>): string {
  return formatLines(doc, settings).map((lines) => lines.join(doc.eol)).join(doc.eol);
}
