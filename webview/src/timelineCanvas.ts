/**
 * The interactive timeline: holds the model's events in lanes, the view (zoom, scroll),
 * and turns pointer, wheel and keyboard input into seeks, reveals and retimes. Drawing is
 * in timelineDraw.ts; the track redraws on model or view changes (once per animation
 * frame at most), the overlay on every playhead move.
 */
import type { TimeFormat, TimelineEvent, TimelineScene } from '../../server/src/language/timeline';
import { clampView, snap, snapStep, type SortedSpans, sortSpans, type View, zoomAround } from './ruler';
import { assignLanes } from './timeline';
import { drawOverlay, drawTrack, type FilmstripImage, LANE_H, lanesTop, MAX_LANES, type Palette, readPalette, trackHeight } from './timelineDraw';

/** What the timeline asks of the page around it. */
export interface TimelineHost {
  currentTime(): number;
  seek(seconds: number): void;
  togglePlay(): void;
  reveal(line: number): void;
  select(event: TimelineEvent): void;
  retime(event: TimelineEvent, start: number, end: number): void;
  announce(text: string): void;
  viewChanged(view: View): void;
}

/** Pixels from a bar's edge that grab the edge rather than the body. */
const EDGE_PX = 5;
/** A press that moves less than this is a click. */
const CLICK_PX = 3;

type Drag =
  | { kind: 'scrub' }
  | { kind: 'start' | 'end' | 'move'; event: TimelineEvent; lane: number; downTime: number; downX: number; start: number; end: number; moved: boolean };

export class TimelineCanvas {
  events: TimelineEvent[] = [];
  private lanes = new Int32Array(0);
  private laneCount = 1;
  private sorted: SortedSpans = sortSpans([]);
  scenes: TimelineScene[] = [];
  format: TimeFormat = { style: 'seconds', fractionDigits: 1 };
  fps: number | undefined;
  /** What the model is shown: frame times and caption windows (drawn in the bottom row). */
  modelFrames: number[] = [];
  windows: { start: number; end: number }[] = [];
  /** Thumbnails of those frames, once decoded (trusted workspaces). */
  filmstrip: FilmstripImage | undefined;
  duration = 1;
  found: { start: number; end: number; query: string } | undefined;
  activeLine: number | undefined;
  playingLine: number | undefined;
  view: View = { viewStart: 0, secondsPerPixel: 0.01 };
  /** Whether the view follows the whole video (refit on resize and on a new duration). */
  fitted = true;
  private width = 300;
  private height = 40;
  private palette: Palette = readPalette();
  private drag: Drag | undefined;
  private pendingTrack = false;
  /** Time spent drawing the last track frame and overlay frame (ms), for the benchmarks. */
  lastTrackMs = 0;
  lastOverlayMs = 0;

  constructor(private readonly track: HTMLCanvasElement, private readonly overlay: HTMLCanvasElement, private readonly host: TimelineHost) {
    new ResizeObserver(() => this.resize()).observe(track.parentElement!);
    // The theme changes the body's class: re-read the colours.
    new MutationObserver(() => { this.palette = readPalette(); this.requestDraw(); }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
    track.addEventListener('pointerdown', (e) => this.onPointerDown(e));
    track.addEventListener('pointermove', (e) => this.onPointerMove(e));
    track.addEventListener('pointerup', (e) => this.onPointerUp(e));
    track.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    track.addEventListener('keydown', (e) => this.onKey(e));
    this.resize();
  }

  /** New events (after a diff): lanes and the sorted index are rebuilt, the track redrawn. */
  setEvents(events: TimelineEvent[]): void {
    this.events = events;
    const { lanes, count } = assignLanes(events);
    this.lanes = Int32Array.from(lanes);
    this.laneCount = count;
    this.sorted = sortSpans(events);
    this.resizeHeight();
    this.requestDraw();
  }

  setDuration(duration: number): void {
    if (!(duration > 0) || duration === this.duration) return;
    this.duration = duration;
    if (this.fitted) this.fit();
    else this.requestDraw();
  }

  private limits() {
    // From about 4 frames per pixel's width of a 300 px view to the whole video in the view.
    return { min: 0.0005, max: Math.max(this.duration * 1.05, 1) / Math.max(this.width, 1) };
  }

  fit(): void {
    this.fitted = true;
    this.setView({ viewStart: 0, secondsPerPixel: this.limits().max }, true);
  }

  zoom(factor: number, anchorPx = this.width / 2): void {
    this.setView(zoomAround(this.view, factor, anchorPx, this.limits()));
  }

  setView(view: View, keepFitted = false): void {
    if (!keepFitted) this.fitted = false;
    this.view = clampView(view, this.width, Math.max(this.duration, 0));
    this.host.viewChanged(this.view);
    this.requestDraw();
  }

  /** Moves the playhead; while playing, pages the view so the playhead stays visible. */
  /**
   * The playhead moved. While playing, the view pages along when it leaves; after a seek
   * (`jumped`: the cursor went to an event out of view) it is brought to the middle.
   */
  playheadMoved(playing: boolean, jumped = false): void {
    const t = this.host.currentTime();
    const right = this.view.viewStart + this.width * this.view.secondsPerPixel;
    if ((playing || jumped) && !this.drag && !this.fitted && (t > right || t < this.view.viewStart)) {
      this.setView({ ...this.view, viewStart: t - this.width * this.view.secondsPerPixel * (playing ? 0.1 : 0.5) });
    }
    this.drawOverlayNow();
  }

  requestDraw(): void {
    if (this.pendingTrack) return;
    this.pendingTrack = true;
    requestAnimationFrame(() => {
      this.pendingTrack = false;
      this.drawTrackNow();
      this.drawOverlayNow();
    });
  }

  private resize(): void {
    this.width = Math.max(50, this.track.parentElement!.clientWidth);
    if (this.fitted) this.view = { viewStart: 0, secondsPerPixel: this.limits().max };
    this.resizeHeight();
    this.requestDraw();
  }

  private wantedHeight(): number {
    return trackHeight(this.laneCount, this.scenes.length > 0, this.modelFrames.length > 0, this.filmstrip !== undefined);
  }

  /** Shows the model row as thumbnails (undefined: back to ticks). */
  setFilmstrip(strip: FilmstripImage | undefined): void {
    this.filmstrip = strip;
    this.resizeHeight();
    this.requestDraw();
  }

  private resizeHeight(): void {
    this.height = this.wantedHeight();
    const ratio = window.devicePixelRatio || 1;
    for (const canvas of [this.track, this.overlay]) {
      const w = Math.round(this.width * ratio);
      const h = Math.round(this.height * ratio);
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      canvas.style.width = `${this.width}px`;
      canvas.style.height = `${this.height}px`;
      canvas.getContext('2d')!.setTransform(ratio, 0, 0, ratio, 0, 0);
    }
  }

  /** Redraws the track at once (the benchmarks time this). */
  drawTrackNow(): void {
    const began = performance.now();
    if (this.wantedHeight() !== this.height) this.resizeHeight();
    drawTrack(this.track.getContext('2d')!, {
      view: this.view, width: this.width, duration: this.duration, events: this.events, lanes: this.lanes, laneCount: this.laneCount,
      sorted: this.sorted, scenes: this.scenes, found: this.found, activeLine: this.activeLine, playingLine: this.playingLine,
      modelFrames: this.modelFrames, windows: this.windows, filmstrip: this.filmstrip,
    }, this.palette, this.height);
    this.lastTrackMs = performance.now() - began;
  }

  drawOverlayNow(): void {
    const began = performance.now();
    const d = this.drag;
    const ghost = d && d.kind !== 'scrub' && d.moved ? { start: d.start, end: d.end, lane: d.lane, top: lanesTop(this.scenes.length > 0) } : undefined;
    drawOverlay(this.overlay.getContext('2d')!, this.width, this.height, this.view, this.host.currentTime(), this.palette, ghost);
    this.lastOverlayMs = performance.now() - began;
  }

  private timeAt(clientX: number): number {
    const rect = this.track.getBoundingClientRect();
    return this.view.viewStart + (clientX - rect.left) * this.view.secondsPerPixel;
  }

  /** The event bar under a point, with the part hit (an edge or the body). */
  hit(clientX: number, clientY: number): { event: TimelineEvent; lane: number; part: 'start' | 'end' | 'move' } | undefined {
    const rect = this.track.getBoundingClientRect();
    const y = clientY - rect.top - lanesTop(this.scenes.length > 0);
    if (y < 0) return undefined;
    const lane = Math.floor(y / LANE_H);
    if (lane >= MAX_LANES) return undefined;
    const t = this.timeAt(clientX);
    const slack = EDGE_PX * this.view.secondsPerPixel;
    let best: { event: TimelineEvent; lane: number; part: 'start' | 'end' | 'move' } | undefined;
    const from = lowerBound(this.sorted.maxEnds, t - slack);
    for (let k = from; k < this.sorted.order.length && this.sorted.starts[k] <= t + slack; k++) {
      const index = this.sorted.order[k];
      if (Math.min(this.lanes[index], MAX_LANES - 1) !== lane) continue;
      const e = this.events[index];
      if (t < e.start - slack || t > Math.max(e.end, e.start) + slack) continue;
      const widthPx = (e.end - e.start) / this.view.secondsPerPixel;
      const part = widthPx > EDGE_PX * 3 && Math.abs(t - e.start) <= slack ? 'start' : widthPx > EDGE_PX * 3 && Math.abs(t - e.end) <= slack ? 'end' : 'move';
      best = { event: e, lane, part };
      if (t >= e.start && t <= e.end) break;
    }
    return best;
  }

  private onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) return;
    this.track.focus();
    this.track.setPointerCapture(e.pointerId);
    const hit = this.hit(e.clientX, e.clientY);
    if (hit) {
      this.drag = { kind: hit.part, event: hit.event, lane: hit.lane, downTime: this.timeAt(e.clientX), downX: e.clientX, start: hit.event.start, end: hit.event.end, moved: false };
      return;
    }
    this.drag = { kind: 'scrub' };
    this.host.seek(Math.max(0, Math.min(this.duration, this.timeAt(e.clientX))));
  }

  private onPointerMove(e: PointerEvent): void {
    const d = this.drag;
    if (!d) {
      const hit = this.hit(e.clientX, e.clientY);
      this.track.style.cursor = hit ? (hit.part === 'move' ? 'grab' : 'ew-resize') : 'pointer';
      this.track.title = hit ? `${hit.event.start}–${hit.event.end} s  ${hit.event.label}\nDrag to move, drag an edge to change it, click to go to line ${hit.event.line + 1}` : '';
      return;
    }
    if (d.kind === 'scrub') {
      this.host.seek(Math.max(0, Math.min(this.duration, this.timeAt(e.clientX))));
      return;
    }
    if (!d.moved && Math.abs(e.clientX - d.downX) < CLICK_PX) return;
    d.moved = true;
    const step = snapStep(this.fps, this.format.fractionDigits);
    const delta = this.timeAt(e.clientX) - d.downTime;
    const { start, end } = d.event;
    if (d.kind === 'move') {
      const length = end - start;
      const newStart = Math.max(0, Math.min(this.duration - length, snap(start + delta, step)));
      d.start = newStart;
      d.end = newStart + length;
    } else if (d.kind === 'start') d.start = Math.max(0, Math.min(end, snap(start + delta, step)));
    else d.end = Math.min(this.duration, Math.max(start, snap(end + delta, step)));
    this.drawOverlayNow();
  }

  private onPointerUp(e: PointerEvent): void {
    const d = this.drag;
    this.drag = undefined;
    if (this.track.hasPointerCapture(e.pointerId)) this.track.releasePointerCapture(e.pointerId);
    if (!d || d.kind === 'scrub') return;
    if (!d.moved) {
      this.host.select(d.event);
      this.host.reveal(d.event.line);
    } else if (d.start !== d.event.start || d.end !== d.event.end) this.host.retime(d.event, d.start, d.end);
    this.drawOverlayNow();
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const rect = this.track.getBoundingClientRect();
    if (e.ctrlKey || e.metaKey) {
      this.zoom(Math.exp(-e.deltaY * 0.002), e.clientX - rect.left);
      return;
    }
    const px = Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX : e.deltaY;
    this.setView({ ...this.view, viewStart: this.view.viewStart + px * this.view.secondsPerPixel });
  }

  /** The event after (direction 1) or before (-1) the selected one, or the playhead, by start time. */
  neighbour(direction: 1 | -1): TimelineEvent | undefined {
    const { order, starts } = this.sorted;
    if (order.length === 0) return undefined;
    const selected = this.activeLine === undefined ? -1 : order.findIndex((i) => this.events[i].line === this.activeLine);
    let k: number;
    if (selected >= 0) k = selected + direction;
    else {
      const t = this.host.currentTime();
      k = direction > 0 ? lowerBound(starts, t + 1e-9) : lowerBound(starts, t) - 1;
    }
    return k >= 0 && k < order.length ? this.events[order[k]] : undefined;
  }

  private onKey(e: KeyboardEvent): void {
    const handled = () => { e.preventDefault(); e.stopPropagation(); };
    switch (e.key) {
      case 'ArrowRight':
      case 'ArrowLeft': {
        const next = this.neighbour(e.key === 'ArrowRight' ? 1 : -1);
        if (next) {
          this.host.select(next);
          this.reveal(next);
        }
        return handled();
      }
      case 'Enter':
        if (this.activeLine !== undefined) this.host.reveal(this.activeLine);
        return handled();
      case '+':
      case '=':
        this.zoom(1.5);
        return handled();
      case '-':
        this.zoom(1 / 1.5);
        return handled();
      case '0':
        this.fit();
        return handled();
      case ' ':
        this.host.togglePlay();
        return handled();
      case 'Home':
        this.host.seek(0);
        return handled();
      case 'End':
        this.host.seek(this.duration);
        return handled();
    }
  }

  /** Scrolls an event into view and announces it. */
  reveal(event: TimelineEvent): void {
    const right = this.view.viewStart + this.width * this.view.secondsPerPixel;
    if (event.start < this.view.viewStart || event.start > right) this.setView({ ...this.view, viewStart: event.start - this.width * this.view.secondsPerPixel * 0.2 });
    this.host.announce(`${event.start} to ${event.end} seconds: ${event.label}, line ${event.line + 1}`);
  }
}

/** First index with `values[i] >= x` in an ascending array. */
function lowerBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
