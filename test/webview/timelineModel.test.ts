import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimelineModel } from '../../client/src/timelineModel';
import type { TimelineParams } from '../../server/src/lsp/protocol';

const event = (start: number, line: number) => ({ start, end: start + 1, line, label: `e${line}`, problem: 0 as const });
const params = (version: number, baseVersion: number | null, diff: TimelineParams['diff']): TimelineParams =>
  ({ uri: 'file:///a.vscan', version, baseVersion, diff, scenes: [], format: { style: 'seconds', fractionDigits: 1 } });

test('the extension\'s timeline copy: whole, then differences; a diff for another version is refused', () => {
  const model = new TimelineModel();
  assert.equal(model.loaded, false);
  assert.ok(model.apply(params(1, null, { start: 0, deleteCount: 0, events: [event(0, 4), event(2, 5), event(4, 7)], lineDelta: 0 })));
  assert.equal(model.eventOnLine(5)?.start, 2);
  assert.equal(model.eventOnLine(6), undefined);
  // A line inserted above the second event: one new event, the rest move down a line.
  assert.ok(model.apply(params(2, 1, { start: 1, deleteCount: 0, events: [event(1, 5)], lineDelta: 1 })));
  assert.deepEqual(model.events.map((e) => e.line), [4, 5, 6, 8]);
  assert.equal(model.byTime.events[1].line, 5);
  assert.equal(model.apply(params(4, 3, { start: 0, deleteCount: 1, events: [], lineDelta: 0 })), false, 'version 3 was never seen');
  assert.equal(model.version, 2);
});
