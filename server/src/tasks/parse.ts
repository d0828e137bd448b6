/**
 * Parsing the model's answers, tolerantly, and saying honestly whether the trained format
 * was matched. Caption: `Scene: <paragraph>` then `Events:` and `<X.X - Y.Y> description`
 * lines. Find: `From X.X to Y.Y.`
 */
import { parseVscan } from '../language';
import { stripThink } from '../model/checkpoint/tokenizer';

export interface CaptionEvent {
  start: number;
  end: number;
  description: string;
}

export interface CaptionResult {
  /** The whole answer after the think block. */
  caption: string;
  scene: string;
  events: CaptionEvent[];
  /** True when the answer had a Scene paragraph and well-formed events only. */
  format_ok: boolean;
  raw: string;
}

export function parseCaption(raw: string): CaptionResult {
  const caption = stripThink(raw).trim();
  const doc = parseVscan(caption);
  const events = doc.events
    .filter((e) => e.startValue !== undefined && e.endValue !== undefined)
    .map((e) => ({ start: e.startValue!, end: e.endValue!, description: e.description }));
  const scene = doc.blocks.map((b) => b.text).filter(Boolean).join(' ');
  const format_ok = doc.blocks.length > 0 && scene.length > 0 && doc.problems.length === 0 && events.length > 0;
  return { caption, scene, events, format_ok, raw };
}

export interface FindResult {
  raw: string;
  span: [number, number] | null;
  format_ok: boolean;
}

const TIME = String.raw`(\d+(?::\d{2}){0,2}(?:\.\d+)?)\s*(?:s|sec|secs|seconds)?`;
const TRAINED = new RegExp(String.raw`^From (\d+(?:\.\d+)?) to (\d+(?:\.\d+)?)\.?$`);
const LOOSE = new RegExp(String.raw`from\s+${TIME}\s+(?:to|-|–|until)\s+${TIME}`, 'i');
const SPAN = new RegExp(String.raw`<?\s*${TIME}\s*[-–]\s*${TIME}\s*>?`);

function seconds(text: string): number {
  const parts = text.split(':').map(Number);
  return parts.reduce((total, part) => total * 60 + part, 0);
}

export function parseFind(raw: string): FindResult {
  const answer = stripThink(raw).trim();
  const trained = TRAINED.exec(answer);
  if (trained) return { raw, span: [Number(trained[1]), Number(trained[2])], format_ok: true };
  const loose = LOOSE.exec(answer) ?? SPAN.exec(answer);
  return { raw, span: loose ? [seconds(loose[1]), seconds(loose[2])] : null, format_ok: false };
}
