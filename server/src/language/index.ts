/**
 * The .vscan language service: pure functions over a parsed document and an injected
 * DocumentContext. Used by the language server and the CLI alike, so both report the
 * same diagnostics. No LSP connection, no VS Code API, no file system access here.
 */
export * from './codeActions';
export * from './completion';
export * from './context';
export * from './diagnostics';
export * from './document';
export * from './formatting';
export * from './hover';
export * from './links';
export * from './navigation';
export * from './outline';
export * from './parser';
export * from './settings';
export * from './time';
export * from './limits';
export * from './timeline';
export * from './timelineEdits';
export * from './similarity';
