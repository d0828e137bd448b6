/** videoScan/loadEngine (Check GPU) over the real protocol, with the tiny checkpoint on the CPU. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoadEngineRequest, StatusNotification, type StatusParams } from '../../server/src/lsp/protocol';
import { TestClient } from '../helpers/lspClient';
import { tempTinyCheckpoint } from '../helpers/tinyModel';

test('loadEngine loads the configured model and answers the provider and precision it got', async () => {
  const { tiny } = await tempTinyCheckpoint('vscan-lsp-load-', 4);
  const client = await TestClient.start({ model: { path: tiny, executionProvider: 'cpu', precision: 'fp16' } });
  const statuses: StatusParams[] = [];
  client.connection.onNotification(StatusNotification.method, (status: StatusParams) => { statuses.push(status); });
  try {
    const status = await client.connection.sendRequest(LoadEngineRequest.type, {});
    assert.equal(status.state, 'idle');
    assert.equal(status.executionProvider, 'cpu');
    assert.equal(status.precision, 'fp16');
    assert.ok(statuses.some((s) => s.state === 'loading'), `a loading status was published: ${JSON.stringify(statuses)}`);
    // Loaded once: asking again answers the same without another load.
    const before = statuses.filter((s) => s.state === 'loading').length;
    const again = await client.connection.sendRequest(LoadEngineRequest.type, {});
    assert.equal(again.executionProvider, 'cpu');
    assert.equal(statuses.filter((s) => s.state === 'loading').length, before);
  } finally {
    await client.stop();
  }
});

test('loadEngine with an unusable model fails with the reason, and the status says error', async () => {
  const client = await TestClient.start({ model: { path: '/nonexistent/video-scan-model', executionProvider: 'cpu' } });
  const statuses: StatusParams[] = [];
  client.connection.onNotification(StatusNotification.method, (status: StatusParams) => { statuses.push(status); });
  try {
    await assert.rejects(client.connection.sendRequest(LoadEngineRequest.type, {}), /nonexistent\/video-scan-model/);
    assert.equal(statuses[statuses.length - 1]?.state, 'error');
  } finally {
    await client.stop();
  }
});
