/** The parsed form of a .vscan file. Positions are LSP-style: 0-based line, UTF-16 column. */
import type { Range } from 'vscode-languageserver-types';
import type { ParsedTime } from './time';

/** A timestamp token: where it is, what was written, and what it means. */
export interface TimeToken extends ParsedTime {
  text: string;
  range: Range;
}

/** `<start - end>`, either an event's span or a Scene block's window. */
export interface Span {
  start: TimeToken;
  end: TimeToken;
  /** From `<` through `>`. */
  range: Range;
}

export interface EventEntry extends Span {
  /** Position of this event in `VscanDocument.events` (document order). */
  index: number;
  line: number;
  /** True when this is the only event on its line (it may then be moved or deleted as a line). */
  ownsLine: boolean;
  /** Description text, trimmed. */
  description: string;
  /** From `<` to the end of the description. */
  fullRange: Range;
  block: SceneBlock;
}

export interface Header {
  key: string;
  value: string;
  line: number;
  keyRange: Range;
  valueRange: Range;
}

export interface SceneBlock {
  /** Line of `Scene…:`. */
  line: number;
  /** `Scene <120.0 - 240.0>:` window, in source seconds. */
  window: Span | undefined;
  /** The Scene paragraph, lines joined with a space. */
  text: string;
  /** The part of the paragraph on the Scene line itself. */
  headText: string;
  /** Line of `Events:`, if any. */
  eventsLine: number | undefined;
  events: EventEntry[];
  /** Last non-blank line that belongs to the block. */
  lastLine: number;
}

export type ParseProblemCode = 'malformed-event' | 'malformed-time' | 'unexpected-text';

export interface ParseProblem {
  code: ParseProblemCode;
  range: Range;
  message: string;
}

/** What a line is; kept per line for grammar-independent features (completion, sorting). */
export enum LineKind {
  Blank,
  Comment,
  Header,
  Scene,
  SceneText,
  Events,
  Event,
  Think,
  Other,
}

export interface VscanDocument {
  lines: string[];
  lineKinds: LineKind[];
  /** The end-of-line sequence the file mostly uses. */
  eol: '\n' | '\r\n';
  headers: Header[];
  blocks: SceneBlock[];
  events: EventEntry[];
  problems: ParseProblem[];
}
