/**
 * The LSP extensions of video-scan: declared once here, imported by the server and the
 * VS Code client (never copied). Each says who sends it to whom.
 */
import { NotificationType, ProtocolRequestType } from 'vscode-languageserver-protocol';
import type { CaptionEvent } from '../tasks/parse';

export interface CaptionParams {
  /** The video to caption (file URI). */
  video: string;
  /** Where to write the .vscan (file URI); default: beside the video, first free name. */
  out?: string;
  /** Work-done progress token from the client. */
  workDoneToken?: string | number;
}

export interface CaptionResponse {
  /** The .vscan written (file URI). */
  file: string;
  scene: string;
  events: CaptionEvent[];
  format_ok: boolean;
  raw: string;
}

export interface FindParams {
  video: string;
  /** The event to find, in words. */
  query: string;
  workDoneToken?: string | number;
}

export interface FindResponse {
  span: [number, number] | null;
  format_ok: boolean;
  raw: string;
}

/** Client → server: caption a video with the configured model (videoScan.model.path). */
export namespace CaptionRequest {
  export const method = 'videoScan/caption';
  export const type = new ProtocolRequestType<CaptionParams, CaptionResponse, never, void, void>(method);
}

/** Client → server: find an event's span in a video. */
export namespace FindRequest {
  export const method = 'videoScan/find';
  export const type = new ProtocolRequestType<FindParams, FindResponse, never, void, void>(method);
}

export interface StatusParams {
  state: 'idle' | 'loading' | 'busy' | 'error';
  /** The model folder configured. */
  model?: string;
  executionProvider?: 'cuda' | 'cpu';
  precision?: 'fp32' | 'fp16';
  /** Jobs waiting behind the running one. */
  queue: number;
  message?: string;
}

/** Server → client: engine state for the status bar. */
export namespace StatusNotification {
  export const method = 'videoScan/status';
  export const type = new NotificationType<StatusParams>(method);
}

/** Server → client: partial model output of a running job, for live display. */
export namespace PartialTextNotification {
  export const method = 'videoScan/partialText';
  export const type = new NotificationType<{ video: string; text: string }>(method);
}
