/**
 * Whether a contributed keybinding shadows one of VS Code's defaults. Used by the fast
 * tier (against a recorded list of code-server's defaults, test/client/) and by the
 * end-to-end test (against the live workbench's list).
 */

export interface Keybinding {
  key: string;
  command: string;
  when?: string;
  mac?: string;
}

/** Keys as VS Code writes them, modifiers in a fixed order, for comparing. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().split(' ').filter(Boolean).map((chord) => chord.split('+').sort().join('+')).join(' ');
}

/**
 * Contributed keybindings that shadow a default one: the same key, or a chord that starts
 * with a default's key (its first press would run the default), or the reverse (the
 * default's chord could not be finished). A default whose `when` is for another language
 * only (`editorLangId == markdown`) does not count, nor `when: false`, nor a removal.
 */
export function shadowedDefaults(contributed: readonly Keybinding[], defaults: readonly Keybinding[]): string[] {
  const out: string[] = [];
  for (const ours of contributed) {
    const mine = normalizeKey(ours.key);
    for (const theirs of defaults) {
      if (theirs.when === 'false' || theirs.command.startsWith('-')) continue;
      const other = normalizeKey(theirs.key);
      const clash = mine === other || mine.startsWith(`${other} `) || other.startsWith(`${mine} `);
      const otherLanguage = /editorLangId\s*(==|=~)/.test(theirs.when ?? '') && !/vscan/.test(theirs.when ?? '');
      if (clash && !otherLanguage) out.push(`${ours.key} (${ours.command}) shadows ${theirs.key} (${theirs.command}, when ${theirs.when ?? 'always'})`);
    }
  }
  return out;
}

/** The default keybindings list as *Preferences: Open Default Keyboard Shortcuts (JSON)* shows it (JSON with comments). */
export function parseDefaultKeybindings(text: string): Keybinding[] {
  return JSON.parse(text.replace(/^\s*\/\/.*$/gm, '')) as Keybinding[];
}
