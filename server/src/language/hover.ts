/** Hover on a time: its clock and seconds forms, the event's duration, its share of the video. */
import { type Hover, MarkupKind, type Position } from 'vscode-languageserver-types';
import type { DocumentContext } from './context';
import type { VscanDocument } from './document';
import { contains, timeAt } from './navigation';
import { findHeader } from './parser';
import { describeSeconds, formatTime } from './time';

/**
 * A file name as literal Markdown text: every character Markdown could read as syntax is
 * backslash-escaped and line breaks become spaces, so a name like `` a`](command:x) ``
 * cannot end a code span or make a link.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/[\\`*_{}[\]()#+\-.!|<>~&:"']/g, (c) => `\\${c}`);
}

function percent(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1)}%`;
}

export function hoverAt(doc: VscanDocument, position: Position, context: DocumentContext): Hover | undefined {
  const duration = context.video?.durationSec;
  const header = findHeader(doc, 'video');
  if (header && context.video && contains(header.valueRange, position)) {
    const lines = [`**Video** ${escapeMarkdown(context.video.path)}`];
    if (!context.video.exists) lines.push('Not found.');
    else if (duration !== undefined) lines.push(`Duration ${formatTime(duration, 'clock', 2)} (${describeSeconds(duration)})`);
    return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n\n') }, range: header.valueRange };
  }
  const at = timeAt(doc, position);
  if (!at || at.token.value === undefined) return undefined;
  const value = at.token.value;
  const digits = Math.max(1, at.token.fractionDigits);
  const lines = [`**${formatTime(value, 'clock', digits)}** · ${formatTime(value, 'seconds', digits)} s`];
  const span = at.event ?? at.block.window;
  if (span && span.start.value !== undefined && span.end.value !== undefined) {
    const length = span.end.value - span.start.value;
    const what = at.event ? 'Event' : 'Window';
    lines.push(duration !== undefined && duration > 0 && length >= 0
      ? `${what} duration ${describeSeconds(length)} — ${percent(length, duration)} of the ${describeSeconds(duration)} video`
      : `${what} duration ${describeSeconds(length)}`);
  }
  if (duration !== undefined && duration > 0) lines.push(`At ${percent(value, duration)} of the video`);
  return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n\n') }, range: at.token.range };
}
