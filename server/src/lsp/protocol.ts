/**
 * The LSP extensions of video-scan: declared once here, imported by the server and the
 * VS Code client (never copied). Each says who sends it to whom.
 */
import { NotificationType, ProtocolRequestType } from 'vscode-languageserver-protocol';
import type { CaptionEvent } from '../tasks/parse';
import type { ModelDescription } from '../model/acquire/resolveModel';
import type { TimeFormat, TimelineDiff, TimelineScene } from '../language/timeline';
import type { TimelineEditParams, TimelineEditResult } from '../language/timelineEdits';

export interface CaptionParams {
  /** The video to caption (file URI). */
  video: string;
  /** Where to write the .vscan (file URI); default: beside the video, first free name. */
  out?: string;
  /** Work-done progress token from the client. */
  workDoneToken?: string | number;
}

export interface CaptionResponse {
  /** The .vscan written (file URI); where it could not be written, where it was kept; absent when it could be written nowhere. */
  file?: string;
  /** Set when the caption is not where it was asked: one line saying why and where it is. */
  notice?: string;
  /** The .vscan text, sent only when `file` is absent: the client opens it in an untitled editor so nothing is lost. */
  text?: string;
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

/** Client → server: caption a video with the configured model (videoScan.model.checkpoint). */
export namespace CaptionRequest {
  export const method = 'videoScan/caption';
  export const type = new ProtocolRequestType<CaptionParams, CaptionResponse, never, void, void>(method);
}

/** Client → server: find an event's span in a video. */
export namespace FindRequest {
  export const method = 'videoScan/find';
  export const type = new ProtocolRequestType<FindParams, FindResponse, never, void, void>(method);
}

/**
 * What the client sends as `initializationOptions` (every field optional: a client that
 * sends none is taken as trusting its workspace, as editors without workspace trust do).
 */
export interface InitializationOptions {
  /** The `videoScan` configuration section, for clients that cannot be asked for it. */
  settings?: unknown;
  /** Whether the workspace is trusted (VS Code: `workspace.isTrusted`). Default true. */
  trusted?: boolean;
  /** Where the preview's filmstrips are kept (VS Code: the extension's storage). Default: a folder in the temp directory. */
  previewCache?: string;
}

export interface WorkspaceTrustParams {
  trusted: boolean;
}

/**
 * Client → server: the workspace's trust changed (VS Code: `onDidGrantWorkspaceTrust`).
 * Untrusted, the server runs no child process and opens no media file: videos are not
 * probed (range checks are skipped with an `untrusted-workspace` diagnostic) and caption
 * and find are refused.
 */
export namespace WorkspaceTrustNotification {
  export const method = 'videoScan/workspaceTrust';
  export const type = new NotificationType<WorkspaceTrustParams>(method);
}

export interface StatusParams {
  state: 'idle' | 'loading' | 'busy' | 'error';
  /** The model configured: a Hub id (`owner/name[@revision]`) or a folder. */
  model?: string;
  executionProvider?: 'cuda' | 'webgpu' | 'cpu';
  /** The GPU adapter in use, in words (WebGPU: vendor, architecture, backend). */
  adapter?: string;
  precision?: 'fp32' | 'fp16';
  /** The weights the linear layers read: `bf16` as stored, or quantized (`int8`, `int4`). */
  weights?: 'bf16' | 'int8' | 'int4';
  /** The attention layers' K/V cache: `float` (the precision's), or 8-bit (`int8`). */
  kvCache?: 'float' | 'int8';
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

/**
 * What a model setting names, and whether it is on this machine: the acquisition layer's own
 * description, sent as it is (one definition; see model/acquire/resolveModel.ts).
 */
export type ModelInfo = ModelDescription;

export interface ModelParams {
  /** The model to ask about; default: the configured one. */
  spec?: string;
  /** A Hugging Face token for private or gated repos (from the client's secret storage); HF_TOKEN otherwise. */
  token?: string;
}

/** Client → server: what the model setting names and whether it is downloaded. */
export namespace ModelInfoRequest {
  export const method = 'videoScan/modelInfo';
  export const type = new ProtocolRequestType<ModelParams, ModelInfo, never, void, void>(method);
}

/** Client → server: download a Hub model into the Hugging Face cache, with work-done progress (bytes, rate, time left) and cancel. */
export namespace DownloadModelRequest {
  export const method = 'videoScan/downloadModel';
  export const type = new ProtocolRequestType<ModelParams & { workDoneToken?: string | number }, ModelInfo, never, void, void>(method);
}

/**
 * Client → server: load the engine for the configured model now, after the queued jobs
 * (Check GPU). Answers the status once loaded: the execution provider it got, the precision,
 * the adapter, and in `message` why it fell back to another provider (if it did).
 */
export namespace LoadEngineRequest {
  export const method = 'videoScan/loadEngine';
  export const type = new ProtocolRequestType<{ workDoneToken?: string | number }, StatusParams, never, void, void>(method);
}

/** The linked video as the preview needs it (from the server's probe cache: the client probes nothing). */
export interface TimelineVideo {
  /** file: URI of the video. */
  uri: string;
  /** File name as the document names it (for messages). */
  name: string;
  exists: boolean;
  /** Named by a `Video:` header (false: found beside the document). */
  explicit: boolean;
  durationSec?: number;
  fps?: number;
  /** Why a webview cannot play it (HEVC video, AAC audio…): the client shows a proxy instead. */
  proxyReason?: string;
  /** Why it could not be probed. */
  probeError?: string;
  /** What the model is shown: the sampled frames' times and the caption windows (the current sampling settings). */
  modelFrames?: number[];
  windows?: { start: number; end: number }[];
}

export interface TimelineParams {
  uri: string;
  /** The document version this model is of. */
  version: number;
  /** The version `diff` applies to; null: `diff` replaces the whole list. */
  baseVersion: number | null;
  diff: TimelineDiff;
  scenes: TimelineScene[];
  /** How the document writes times (for snapping and edits). */
  format: TimeFormat;
  /** Undefined when nothing is linked (no header, nothing beside the file). */
  video?: TimelineVideo;
}

/** Server → client: a watched document's timeline changed (after its validation, from the same parse). */
export namespace TimelineNotification {
  export const method = 'videoScan/timeline';
  export const type = new NotificationType<TimelineParams>(method);
}

/** Client → server: start (a full model follows) or stop sending a document's timeline. */
export namespace WatchTimelineNotification {
  export const method = 'videoScan/watchTimeline';
  export const type = new NotificationType<{ uri: string; watch: boolean }>(method);
}

export interface TimelineEditRequestParams {
  uri: string;
  /** The document version the edit was asked against; another version answers an error. */
  version: number;
  edit: TimelineEditParams;
}

/** Client → server: the text edits of a playhead or timeline action (applied by the client as one undo step). */
export namespace TimelineEditRequest {
  export const method = 'videoScan/timelineEdit';
  export const type = new ProtocolRequestType<TimelineEditRequestParams, TimelineEditResult, never, void, void>(method);
}

/** Client → server: the video a .vscan document links (null: none), as the diagnostics see it. */
export namespace DocumentVideoRequest {
  export const method = 'videoScan/documentVideo';
  export const type = new ProtocolRequestType<{ uri: string }, TimelineVideo | null, never, void, void>(method);
}

/** The filmstrip of a document's video: thumbnails of the frames the model is shown, in one sprite. */
export interface FilmstripResult {
  /** file: URI of the PNG sprite (tiles left to right, then down). */
  image: string;
  /** The time of each tile, ascending. */
  times: number[];
  tileWidth: number;
  tileHeight: number;
  columns: number;
}

/**
 * Client → server: the filmstrip of the video a .vscan links, decoded once with ffmpeg and
 * cached (null: no video, untrusted workspace, or nothing to plan). Errors answer one line.
 */
export namespace FilmstripRequest {
  export const method = 'videoScan/filmstrip';
  export const type = new ProtocolRequestType<{ uri: string }, FilmstripResult | null, never, void, void>(method);
}
