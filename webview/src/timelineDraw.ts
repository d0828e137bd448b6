/**
 * Drawing the timeline on a canvas: the ruler, Scene windows (their overlaps darker), event
 * bars in lanes (labels when they fit, problems coloured), the Find mark, and — on a
 * separate overlay canvas, so playback redraws only a line — the playhead and a dragged
 * bar's outline. Only what is in view is visited.
 */
import type { TimelineEvent, TimelineScene } from '../../server/src/language/timeline';
import { rulerLabel, type SortedSpans, thumbnailsInView, ticksFor, type View, visibleRange } from './ruler';

export const RULER_H = 20;
export const SCENE_H = 14;
export const LANE_H = 18;
/** Lanes drawn; events in deeper lanes share the last one (overlaps are marked as problems anyway). */
export const MAX_LANES = 8;
/** The bottom row: the frames the model is shown, and the seams of caption windows. */
export const MODEL_H = 14;
/** The same row once its thumbnails are decoded (the filmstrip). */
export const FILMSTRIP_H = 40;

/** Thumbnails of the frames the model is shown: tiles of one decoded sprite. */
export interface FilmstripImage {
  image: CanvasImageSource;
  times: readonly number[];
  tileWidth: number;
  tileHeight: number;
  columns: number;
}

/** Theme colours, read from VS Code's CSS variables (they change with the theme). */
export interface Palette {
  background: string;
  foreground: string;
  muted: string;
  bar: string;
  error: string;
  warning: string;
  scene: string;
  found: string;
  playhead: string;
  focus: string;
  contrastBorder: string | undefined;
  font: string;
}

export function readPalette(): Palette {
  const style = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    background: v('--vscode-editor-background', '#1e1e1e'),
    foreground: v('--vscode-editor-foreground', v('--vscode-foreground', '#cccccc')),
    muted: v('--vscode-descriptionForeground', '#999999'),
    bar: v('--vscode-charts-blue', '#3794ff'),
    error: v('--vscode-charts-red', '#f14c4c'),
    warning: v('--vscode-charts-yellow', '#cca700'),
    scene: v('--vscode-charts-purple', '#b180d7'),
    found: v('--vscode-charts-orange', '#d18616'),
    playhead: v('--vscode-editorCursor-foreground', '#aeafad'),
    focus: v('--vscode-focusBorder', '#007fd4'),
    contrastBorder: style.getPropertyValue('--vscode-contrastBorder').trim() || undefined,
    font: `11px ${v('--vscode-font-family', 'sans-serif')}`,
  };
}

/** Everything one frame of the track needs. */
export interface TrackState {
  view: View;
  /** CSS pixels. */
  width: number;
  duration: number;
  events: readonly TimelineEvent[];
  lanes: Int32Array;
  laneCount: number;
  sorted: SortedSpans;
  scenes: readonly TimelineScene[];
  found: { start: number; end: number; query: string } | undefined;
  /** The line of the cursor's event (dashed outline) and of the playing one (solid, bright). */
  activeLine: number | undefined;
  playingLine: number | undefined;
  modelFrames: readonly number[];
  windows: readonly { start: number; end: number }[];
  filmstrip: FilmstripImage | undefined;
}

/** The model row's height: none, ticks, or thumbnails. */
export function modelRowHeight(hasModelFrames: boolean, hasFilmstrip: boolean): number {
  return hasFilmstrip ? FILMSTRIP_H : hasModelFrames ? MODEL_H : 0;
}

export function trackHeight(laneCount: number, hasScenes: boolean, hasModelFrames = false, hasFilmstrip = false): number {
  return RULER_H + (hasScenes ? SCENE_H : 0) + Math.max(1, Math.min(laneCount, MAX_LANES)) * LANE_H + 4 + modelRowHeight(hasModelFrames, hasFilmstrip);
}

/**
 * The filmstrip: each thumbnail at its frame's time, scaled to the row; where frames are
 * closer than a thumbnail is wide, the ones that would overlap the previous are skipped,
 * so zooming in shows more of them. Only the frames in view are visited.
 */
function drawFilmstrip(ctx: CanvasRenderingContext2D, s: TrackState, strip: FilmstripImage, top: number, height: number): void {
  const drawnWidth = Math.max(1, Math.round((strip.tileWidth * height) / strip.tileHeight));
  for (const { index, x } of thumbnailsInView(strip.times, s.view, s.width, drawnWidth)) {
    const column = index % strip.columns;
    const row = Math.floor(index / strip.columns);
    ctx.drawImage(strip.image, column * strip.tileWidth, row * strip.tileHeight, strip.tileWidth, strip.tileHeight, x, top, drawnWidth, height);
  }
}

/**
 * The frames the model is shown (a tick each; a denser stretch reads darker) and, for a
 * long video, its caption windows' seams: where one window ends and the next begins.
 */
function drawModelRow(ctx: CanvasRenderingContext2D, s: TrackState, p: Palette, top: number): void {
  const { view, width } = s;
  const x = (t: number) => (t - view.viewStart) / view.secondsPerPixel;
  const end = view.viewStart + width * view.secondsPerPixel;
  const rowHeight = modelRowHeight(true, s.filmstrip !== undefined);
  const inView = s.modelFrames.filter((t) => t >= view.viewStart && t <= end);
  ctx.fillStyle = p.muted;
  if (s.filmstrip) {
    drawFilmstrip(ctx, s, s.filmstrip, top + 1, rowHeight - 2);
  } else if (inView.length > width / 4) {
    // Too dense for ticks: a faint band where frames are, and what it is in words.
    withAlpha(ctx, 0.25, () => ctx.fillRect(Math.max(0, x(inView[0])), top + 3, Math.min(width, x(inView[inView.length - 1])) - Math.max(0, x(inView[0])) + 1, MODEL_H - 5));
  } else {
    for (const t of inView) ctx.fillRect(Math.round(x(t)), top + 3, 1, MODEL_H - 5);
  }
  ctx.font = p.font;
  ctx.textBaseline = 'middle';
  ctx.fillStyle = p.foreground;
  // Said in words where there are no thumbnails yet, on a backing so ticks do not cross it.
  if (!s.filmstrip) {
    const label = `frames the model sees: ${s.modelFrames.length}`;
    ctx.fillStyle = p.background;
    ctx.fillRect(2, top + 1, ctx.measureText(label).width + 4, MODEL_H - 2);
    ctx.fillStyle = p.foreground;
    withAlpha(ctx, 0.8, () => ctx.fillText(label, 4, top + MODEL_H / 2));
  }
  if (s.windows.length > 1) {
    ctx.strokeStyle = p.scene;
    // Over thumbnails a solid, wider line: a dashed one is lost in the pictures.
    if (s.filmstrip) ctx.lineWidth = 2;
    else ctx.setLineDash([2, 2]);
    ctx.beginPath();
    for (const w of s.windows) {
      for (const t of [w.start, w.end]) {
        if (t <= 0 || t >= s.duration || t < view.viewStart || t > end) continue;
        ctx.moveTo(Math.round(x(t)) + 0.5, top);
        ctx.lineTo(Math.round(x(t)) + 0.5, top + rowHeight);
      }
    }
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.lineWidth = 1;
  }
}

export function lanesTop(hasScenes: boolean): number {
  return RULER_H + (hasScenes ? SCENE_H : 0) + 2;
}

function withAlpha(ctx: CanvasRenderingContext2D, alpha: number, draw: () => void): void {
  const previous = ctx.globalAlpha;
  ctx.globalAlpha = alpha;
  draw();
  ctx.globalAlpha = previous;
}

function drawRuler(ctx: CanvasRenderingContext2D, s: TrackState, p: Palette): void {
  const { view, width } = s;
  const { major, minor } = ticksFor(view.secondsPerPixel);
  const x = (t: number) => (t - view.viewStart) / view.secondsPerPixel;
  const end = view.viewStart + width * view.secondsPerPixel;
  ctx.strokeStyle = p.muted;
  ctx.fillStyle = p.muted;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let t = Math.floor(view.viewStart / minor) * minor; t <= end; t += minor) {
    const isMajor = Math.abs(t / major - Math.round(t / major)) < 1e-6;
    const px = Math.round(x(t)) + 0.5;
    ctx.moveTo(px, RULER_H);
    ctx.lineTo(px, RULER_H - (isMajor ? 8 : 4));
  }
  ctx.stroke();
  ctx.font = p.font;
  ctx.textBaseline = 'top';
  for (let t = Math.floor(view.viewStart / major) * major; t <= end; t += major) {
    if (t < 0) continue;
    ctx.fillText(rulerLabel(t, major), Math.round(x(t)) + 3, 2);
  }
  // The video's end: beyond it nothing can be annotated.
  if (s.duration > 0 && x(s.duration) < width) {
    withAlpha(ctx, 0.12, () => {
      ctx.fillStyle = p.foreground;
      ctx.fillRect(x(s.duration), 0, width - x(s.duration), 1e4);
    });
  }
  ctx.strokeStyle = p.contrastBorder ?? p.muted;
  withAlpha(ctx, p.contrastBorder ? 1 : 0.4, () => {
    ctx.beginPath();
    ctx.moveTo(0, RULER_H + 0.5);
    ctx.lineTo(width, RULER_H + 0.5);
    ctx.stroke();
  });
}

function drawScenes(ctx: CanvasRenderingContext2D, s: TrackState, p: Palette): void {
  const { view } = s;
  const x = (t: number) => (t - view.viewStart) / view.secondsPerPixel;
  const top = RULER_H + 1;
  ctx.font = p.font;
  ctx.textBaseline = 'top';
  for (const scene of s.scenes) {
    const x0 = x(scene.start);
    const w = Math.max(1, x(scene.end) - x0);
    withAlpha(ctx, 0.28, () => { ctx.fillStyle = p.scene; ctx.fillRect(x0, top, w, SCENE_H - 2); });
    ctx.strokeStyle = p.scene;
    ctx.strokeRect(x0 + 0.5, top + 0.5, w - 1, SCENE_H - 3);
    ctx.fillStyle = p.foreground;
    ctx.save();
    ctx.beginPath();
    ctx.rect(x0, top, w, SCENE_H);
    ctx.clip();
    ctx.fillText(`Scene ${rulerLabel(scene.start, 1)}–${rulerLabel(scene.end, 1)}`, Math.max(x0, 0) + 3, top + 1);
    ctx.restore();
  }
  // Where windows overlap (a long video captioned in windows), the seam is darker.
  for (let i = 0; i < s.scenes.length; i++) {
    for (let j = i + 1; j < s.scenes.length && j < i + 16; j++) {
      const a = s.scenes[i];
      const b = s.scenes[j];
      const from = Math.max(a.start, b.start);
      const to = Math.min(a.end, b.end);
      if (to <= from) continue;
      withAlpha(ctx, 0.55, () => { ctx.fillStyle = p.scene; ctx.fillRect(x(from), top, Math.max(1, x(to) - x(from)), SCENE_H - 2); });
    }
  }
}

function drawEvents(ctx: CanvasRenderingContext2D, s: TrackState, p: Palette, top: number): void {
  const { view, width, sorted, events, lanes } = s;
  const t0 = view.viewStart;
  const t1 = t0 + width * view.secondsPerPixel;
  const [from, to] = visibleRange(sorted, t0, t1);
  const lastRight = new Float64Array(MAX_LANES).fill(-Infinity);
  ctx.font = p.font;
  ctx.textBaseline = 'middle';
  for (let k = from; k < to; k++) {
    const index = sorted.order[k];
    const e = events[index];
    if (e.end < t0) continue;
    const lane = Math.min(lanes[index], MAX_LANES - 1);
    const x0 = (e.start - t0) / view.secondsPerPixel;
    const x1 = Math.max(x0 + 1, (Math.min(e.end, e.start > e.end ? e.start : e.end) - t0) / view.secondsPerPixel);
    // At a zoom where thousands of events share a pixel, draw each pixel once per lane.
    if (x1 - x0 < 2 && x1 <= lastRight[lane] + 0.5 && e.problem === 0) continue;
    lastRight[lane] = Math.max(lastRight[lane], x1);
    const y = top + lane * LANE_H;
    const colour = e.problem === 1 ? p.error : e.problem === 2 ? p.warning : p.bar;
    withAlpha(ctx, 0.35, () => { ctx.fillStyle = colour; ctx.fillRect(x0, y, x1 - x0, LANE_H - 3); });
    ctx.fillStyle = colour;
    // A solid start edge: touching events read as two bars, not one (on bars wide enough
    // to show it; below that, dense stretches stay a tint rather than a solid block).
    if (x1 - x0 >= 4) ctx.fillRect(x0, y, 2, LANE_H - 3);
    if (x1 - x0 > 36) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(x0 + 4, y, x1 - x0 - 6, LANE_H - 3);
      ctx.clip();
      ctx.fillStyle = p.foreground;
      ctx.fillText(e.label, Math.max(x0, 0) + 5, y + (LANE_H - 3) / 2);
      ctx.restore();
    }
    if (e.line === s.playingLine || e.line === s.activeLine) {
      ctx.strokeStyle = e.line === s.playingLine ? p.focus : p.foreground;
      ctx.lineWidth = e.line === s.playingLine ? 2 : 1;
      ctx.setLineDash(e.line === s.playingLine ? [] : [3, 2]);
      ctx.strokeRect(x0 + 1, y + 1, Math.max(1, x1 - x0 - 2), LANE_H - 5);
      ctx.setLineDash([]);
      ctx.lineWidth = 1;
    }
  }
}

/** Draws the whole track (not the playhead). */
export function drawTrack(ctx: CanvasRenderingContext2D, s: TrackState, p: Palette, height: number): void {
  ctx.clearRect(0, 0, s.width, height);
  const hasScenes = s.scenes.length > 0;
  if (hasScenes) drawScenes(ctx, s, p);
  if (s.found) {
    const x0 = (s.found.start - s.view.viewStart) / s.view.secondsPerPixel;
    const x1 = (s.found.end - s.view.viewStart) / s.view.secondsPerPixel;
    withAlpha(ctx, 0.3, () => { ctx.fillStyle = p.found; ctx.fillRect(x0, RULER_H, Math.max(2, x1 - x0), height - RULER_H); });
    ctx.strokeStyle = p.found;
    ctx.strokeRect(x0 + 0.5, RULER_H + 0.5, Math.max(2, x1 - x0) - 1, height - RULER_H - 1);
  }
  drawEvents(ctx, s, p, lanesTop(hasScenes));
  if (s.modelFrames.length || s.filmstrip) drawModelRow(ctx, s, p, height - modelRowHeight(true, s.filmstrip !== undefined));
  drawRuler(ctx, s, p);
}

/** The overlay: playhead (line and handle) and the outline of a bar being dragged. */
export function drawOverlay(ctx: CanvasRenderingContext2D, width: number, height: number, view: View, seconds: number, p: Palette,
  ghost?: { start: number; end: number; lane: number; top: number }): void {
  ctx.clearRect(0, 0, width, height);
  if (ghost) {
    const x0 = (ghost.start - view.viewStart) / view.secondsPerPixel;
    const x1 = (ghost.end - view.viewStart) / view.secondsPerPixel;
    ctx.strokeStyle = p.focus;
    ctx.lineWidth = 2;
    ctx.strokeRect(x0, ghost.top + ghost.lane * LANE_H, Math.max(2, x1 - x0), LANE_H - 3);
    ctx.fillStyle = p.foreground;
    ctx.font = p.font;
    ctx.textBaseline = 'top';
    ctx.fillText(`${rulerLabel(ghost.start, 0.01)} – ${rulerLabel(ghost.end, 0.01)}`, Math.max(0, x0), 2);
  }
  const x = Math.round((seconds - view.viewStart) / view.secondsPerPixel) + 0.5;
  if (x < -8 || x > width + 8) return;
  ctx.strokeStyle = p.playhead;
  ctx.fillStyle = p.playhead;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(x, 0);
  ctx.lineTo(x, height);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(x - 5, 0);
  ctx.lineTo(x + 5, 0);
  ctx.lineTo(x, 7);
  ctx.closePath();
  ctx.fill();
  ctx.lineWidth = 1;
}
