import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelView } from '../../server/src/tasks/modelView';
import { TRAINING_DEFAULTS } from '../../server/src/video/plan';

test('what the model is shown of a long video: frames window by window, and the windows', () => {
  const view = modelView({ durationSec: 180, fps: 25, frameCount: 4500, width: 320, height: 180 }, { sampling: TRAINING_DEFAULTS });
  assert.deepEqual(view?.windows, [{ start: 0, end: 120 }, { start: 110, end: 180 }]);
  const first = view!.frameTimes.filter((t) => t < 110);
  assert.ok(Math.abs(first.length - 220) <= 2, `about 2 frames a second in the first window (${first.length} before 110 s)`);
  assert.ok(view!.frameTimes.every((t) => t >= 0 && t <= 180));
  assert.equal(modelView({ durationSec: 0, fps: 0, frameCount: 0, width: 0, height: 0 }, { sampling: TRAINING_DEFAULTS }), undefined, 'an unplannable probe gives nothing, not an exception');
});
