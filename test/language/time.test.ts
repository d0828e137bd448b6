import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTime, parseTime } from '../../server/src/language';

test('parses seconds and clock forms, keeping the written precision', () => {
  assert.deepEqual(parseTime('12'), { value: 12, fractionDigits: 0 });
  assert.deepEqual(parseTime('12.5'), { value: 12.5, fractionDigits: 1 });
  assert.deepEqual(parseTime('12.25'), { value: 12.25, fractionDigits: 2 });
  assert.deepEqual(parseTime('1:02.5'), { value: 62.5, fractionDigits: 1 });
  assert.deepEqual(parseTime('1:02:03.5'), { value: 3723.5, fractionDigits: 1 });
  assert.deepEqual(parseTime('0:05'), { value: 5, fractionDigits: 0 });
  assert.deepEqual(parseTime('-1.5'), { value: -1.5, fractionDigits: 1 });
});

test('rejects what is not a time', () => {
  for (const bad of ['', 'abc', '1:75', '1:5', '1:60:00', '1.2.3', '1:02:03:04', '.5', '5.', '1e3', ' 1', '١٢']) {
    assert.equal(parseTime(bad).value, undefined, bad);
  }
});

test('formats seconds with at least one decimal and clock form with rollover', () => {
  assert.equal(formatTime(12), '12.0');
  assert.equal(formatTime(12.25, 'seconds', 2), '12.25');
  assert.equal(formatTime(62.5, 'clock'), '1:02.5');
  assert.equal(formatTime(3723.5, 'clock'), '1:02:03.5');
  assert.equal(formatTime(59.96, 'clock'), '1:00.0');
  assert.equal(formatTime(5, 'clock'), '0:05.0');
  assert.equal(formatTime(-1.5), '-1.5');
});

test('clock and seconds forms round-trip', () => {
  for (const value of [0, 0.1, 9.9, 59.9, 60, 61.5, 3599.9, 3600, 7384.3]) {
    for (const style of ['seconds', 'clock'] as const) {
      const text = formatTime(value, style);
      assert.equal(parseTime(text).value, value, `${value} as ${text}`);
    }
  }
});
