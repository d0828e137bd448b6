/**
 * The messages between the extension and the preview webview: one discriminated union
 * per direction, keyed on `type`, imported by both sides (never copied).
 */

/** An event as the timeline draws it. */
export interface TimelineEvent {
  start: number;
  end: number;
  /** 0-based line in the .vscan document. */
  line: number;
  label: string;
  /** A diagnostic of error severity sits on the event. */
  problem: boolean;
}

/** Extension → webview. */
export type ToWebview =
  /** The document's events (sent on open and after edits); `version` orders updates. */
  | { type: 'events'; version: number; events: TimelineEvent[]; durationSec?: number }
  /** Seek to `seconds`; `loopEnd` plays the span in a loop. */
  | { type: 'seek'; seconds: number; loopEnd?: number; version: number }
  /** A Find result to mark on the timeline. */
  | { type: 'found'; start: number; end: number; query: string }
  /** The line of the event under the editor's cursor (highlighted on the timeline). */
  | { type: 'activeLine'; line: number | undefined };

/** Webview → extension. */
export type FromWebview =
  /** The webview's script has loaded and listens. */
  | { type: 'ready' }
  /** The playhead moved (throttled); `playing` says whether the video plays. */
  | { type: 'time'; seconds: number; playing: boolean }
  /** A timeline bar was clicked: reveal its line. */
  | { type: 'revealLine'; line: number }
  /** The video cannot be played (codec): the extension may offer a proxy. */
  | { type: 'playbackError'; message: string };

/** State kept across reloads (webview state, restored by the serializer). */
export interface PreviewState {
  documentUri: string;
  seconds: number;
}
