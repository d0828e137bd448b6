/**
 * The messages between the extension and the preview webview: one discriminated union
 * per direction, keyed on `type`, imported by both sides (never copied).
 */
import type { TimeFormat, TimelineDiff, TimelineScene } from '../../server/src/language/timeline';

export type { TimelineEvent } from '../../server/src/language/timeline';

/** Extension → webview. */
export type ToWebview =
  /**
   * The timeline model (from the language server), as a difference against `baseVersion`
   * (null: `diff` holds every event). A diff for another base is ignored by the webview,
   * which then asks for the whole model (`resync`).
   */
  | { type: 'timeline'; version: number; baseVersion: number | null; diff: TimelineDiff; scenes: TimelineScene[]; format: TimeFormat; durationSec?: number; fps?: number;
    /** The times of the frames the model is shown, and the caption windows of a long video. */
    modelFrames?: number[]; windows?: { start: number; end: number }[] }
  /** Seek to `seconds`; `loopEnd` is the event's end (looped when the loop box is ticked); `play` plays it once or in a loop. */
  | { type: 'seek'; seconds: number; loopEnd?: number; play?: 'once' | 'loop'; version: number }
  /** A Find result to mark on the timeline. */
  | { type: 'found'; start: number; end: number; query: string }
  /** The line of the event under the editor's cursor (marked on the timeline). */
  | { type: 'activeLine'; line: number | undefined }
  /** The preview was locked to its document or unlocked (kept in the state restored after a reload). */
  | { type: 'locked'; locked: boolean }
  /**
   * The filmstrip: thumbnails of the frames the model is shown, tiles of one sprite (left to
   * right, then down), each at its time. Sent in trusted workspaces once it is decoded.
   */
  | { type: 'filmstrip'; src: string; times: number[]; tileWidth: number; tileHeight: number; columns: number }
  /**
   * Transport from the editor's keybindings: play/pause, a frame step, a jump by seconds.
   * `seq` numbers them; the webview's `time` reports say which it had applied.
   */
  | ({ type: 'transport'; seq: number } & ({ action: 'toggle' } | { action: 'step'; frames: number } | { action: 'jump'; seconds: number }));

/** A transport request before the preview numbers it. */
export type TransportAction = { action: 'toggle' } | { action: 'step'; frames: number } | { action: 'jump'; seconds: number };

/** Webview → extension. */
export type FromWebview =
  /**
   * The webview's script has loaded and listens: send the whole model. `page` is the render
   * it belongs to (the body's data-page), so a late `ready` from a page already replaced is
   * not taken for the new one's.
   */
  | { type: 'ready'; page: number }
  /** A diff did not fit the webview's model: send the whole model again. */
  | { type: 'resync' }
  /**
   * The playhead moved (throttled); `playing` says whether the video plays; `transport` is
   * the `seq` of the last transport message applied before it (0: none), so the extension
   * can tell a report older than a key it has sent since.
   */
  | { type: 'time'; seconds: number; playing: boolean; transport: number }
  /** A timeline bar was chosen (click, Enter): reveal its line. */
  | { type: 'revealLine'; line: number }
  /** A bar was dragged: the event on `line` that spanned `from` now spans start–end. */
  | { type: 'retime'; line: number; from: { start: number; end: number }; start: number; end: number }
  /** The video cannot be played (codec): the extension may offer a proxy. */
  | { type: 'playbackError'; message: string };

/** State kept across reloads (webview state, restored by the serializer). */
export interface PreviewState {
  documentUri: string;
  seconds: number;
  /** Seconds per pixel and the left edge of the timeline's view. */
  zoom?: { secondsPerPixel: number; viewStart: number };
  locked?: boolean;
}
