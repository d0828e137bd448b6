/**
 * The contributed keybindings against VS Code's defaults as code-server 4.139.1 lists them
 * (recorded by test/e2e/defaultKeybindings.ts; the e2e test checks the live list again).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Keybinding, normalizeKey, shadowedDefaults } from '../helpers/keybindings';

const root = join(__dirname, '..', '..');
const defaults = JSON.parse(readFileSync(join(__dirname, 'code-server-4.139.1-default-keybindings.json'), 'utf8')) as Keybinding[];
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { contributes: { keybindings: Keybinding[]; commands: { command: string }[] } };
const ours = manifest.contributes.keybindings;

test('the recorded defaults are a real list (Chat on Ctrl+Alt+I among them)', () => {
  assert.ok(defaults.length > 500, `${defaults.length} defaults`);
  assert.ok(defaults.some((d) => d.key === 'ctrl+alt+i' && /chat/i.test(d.command)));
});

test('the shadow check finds a clash: same key, a chord over a default key, a default chord over ours', () => {
  const found = shadowedDefaults(
    [{ key: 'ctrl+alt+i', command: 'a' }, { key: 'ctrl+w x', command: 'b' }, { key: 'ctrl+k', command: 'c' }, { key: 'ctrl+k v', command: 'd' }],
    [{ key: 'alt+ctrl+i', command: 'chat' }, { key: 'ctrl+w', command: 'close' }, { key: 'ctrl+k ctrl+s', command: 'keys' }, { key: 'ctrl+k v', command: 'md', when: 'editorLangId == markdown' }],
  );
  assert.deepEqual(found.map((f) => f.split(' (')[0]), ['ctrl+alt+i', 'ctrl+w x', 'ctrl+k']);
});

test('no contributed keybinding shadows a default one, on Linux/Windows keys or the macOS ones', () => {
  assert.deepEqual(shadowedDefaults(ours, defaults), []);
  // The recorded list is Linux's. macOS's defaults are, near enough, the same with Cmd for
  // Ctrl (not exactly: this catches a Cmd+K chord over a Cmd+K default, not every Mac key).
  const asMac = defaults.map((d) => ({ ...d, key: d.key.replace(/\bctrl\+/g, 'cmd+') }));
  assert.deepEqual(shadowedDefaults(ours.map((k) => ({ ...k, key: k.mac ?? k.key })), asMac), []);
});

test('every transport and playhead command has a keybinding, only in a .vscan editor with a preview', () => {
  const transport = ['togglePlayback', 'playEvent', 'loopEvent', 'stepFrameForward', 'stepFrameBackward', 'forwardSecond', 'backSecond', 'setEventStart', 'setEventEnd', 'insertEventAtPlayhead'];
  for (const name of transport) {
    const binding = ours.find((k) => k.command === `videoScan.${name}`);
    assert.ok(binding, `${name} has a key`);
    assert.match(binding.when ?? '', /editorLangId == vscan/);
    assert.match(binding.when ?? '', /videoScan\.previewOpen/);
    assert.ok(manifest.contributes.commands.some((c) => c.command === binding.command), `${name} is a contributed command`);
  }
  // One scheme: Ctrl+K (Cmd+K) chords, none repeated.
  assert.ok(ours.every((k) => k.key.startsWith('ctrl+k ') && k.mac?.startsWith('cmd+k ')));
  assert.equal(new Set(ours.map((k) => normalizeKey(k.key))).size, ours.length);
});
