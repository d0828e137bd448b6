import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TimelineEvent } from '../../webview/src/messages';
import { assignLanes, eventAt, timeTable } from '../../webview/src/timeline';

const event = (start: number, end: number, line: number): TimelineEvent => ({ start, end, line, label: `e${line}`, problem: 0 });

test('overlapping events get separate lanes; touching ones share a lane', () => {
  const events = [event(0, 2, 3), event(1, 3, 4), event(2, 4, 5), event(2.5, 3, 6), event(5, 6, 7)];
  const { lanes, count } = assignLanes(events);
  assert.deepEqual(lanes, [0, 1, 0, 2, 0]);
  assert.equal(count, 3);
});

test('the event playing at a time: the latest started among those still running', () => {
  const table = timeTable([event(0, 10, 1), event(2, 3, 2), event(4, 6, 3), event(8, 8, 4)]);
  assert.equal(eventAt(table, 2.5)?.line, 2);
  assert.equal(eventAt(table, 3.5)?.line, 1, 'back in the long event after the short one ends');
  assert.equal(eventAt(table, 5)?.line, 3);
  assert.equal(eventAt(table, 8)?.line, 4, 'an empty span is current at its instant');
  assert.equal(eventAt(table, 10.5), undefined);
  assert.equal(eventAt(table, -1), undefined);
});

test('reversed spans are left off the timeline lookup', () => {
  const table = timeTable([event(5, 4, 1), event(0, 1, 2)]);
  assert.deepEqual(table.events.map((e) => e.line), [2]);
});
