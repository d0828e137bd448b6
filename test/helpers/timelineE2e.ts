/** Helpers for the timeline's end-to-end tests: sample files, and points on the timeline's canvas. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame } from 'playwright-core';

/** The timeline's layout (webview/src/timelineDraw.ts): ruler, Scene row, lanes. */
import { LANE_H, lanesTop, RULER_H } from '../../webview/src/timelineDraw';

/** Events written for a big file: `count` touching events over `seconds`. */
export function bigVscan(count: number, seconds: number, video: string): string {
  const lines = [`Video: ${video}`, '', 'Scene: many events.', 'Events:'];
  const step = seconds / count;
  for (let i = 0; i < count; i++) lines.push(`<${(i * step).toFixed(3)} - ${((i + 1) * step).toFixed(3)}> event number ${i}`);
  return lines.join('\n') + '\n';
}

/** Files the timeline tests open: clock-style times, and 10,000 events on the 3-minute video. */
export function writeTimelineSamples(workspace: string): void {
  writeFileSync(join(workspace, 'clock.vscan'), [
    '# Times written as m:ss.s: playhead edits write them the same way.',
    'Video: kitchen.mp4',
    '',
    'Scene: the kitchen clip, clock times.',
    'Events:',
    '<0:00.0 - 0:02.0> the counter shows 0 and 1',
    '<0:04.5 - 0:07.0> the counter runs on to 6',
    '',
  ].join('\n'));
  writeFileSync(join(workspace, 'big.vscan'), bigVscan(10_000, 180, 'long.mp4'));
}

/**
 * The page coordinates of time `seconds` in `lane` of the preview's timeline (or on the
 * ruler when lane is 'ruler'), from the view the webview reports.
 */
export async function trackPoint(frame: Frame, seconds: number, lane: number | 'ruler'): Promise<{ x: number; y: number }> {
  const box = await frame.locator('#track').boundingBox();
  if (!box) throw new Error('the timeline is not on screen');
  const { viewStart, secondsPerPixel, hasScenes } = await frame.evaluate(() => {
    const t = (window as unknown as { videoScanPreview: { timeline: { view: { viewStart: number; secondsPerPixel: number }; scenes: unknown[] } } }).videoScanPreview.timeline;
    return { ...t.view, hasScenes: t.scenes.length > 0 };
  });
  const x = box.x + (seconds - viewStart) / secondsPerPixel;
  const y = box.y + (lane === 'ruler' ? RULER_H / 2 : lanesTop(hasScenes) + lane * LANE_H + LANE_H / 2 - 2);
  return { x, y };
}
