/**
 * The messages between the engine host (language server or CLI) and the engine process.
 * One discriminated union per direction, keyed on `type`, imported by both sides.
 */
import type { GenerateOptions, GenerateResult } from './engine';
import type { RuntimeOptions, SessionReport } from './runtime';

/** Generation options that cross the process boundary (no callbacks, no signals). */
export type RemoteGenerateOptions = Omit<GenerateOptions, 'onToken' | 'onLogits' | 'signal' | 'visual'> & {
  visual?: { embeds: number[]; index: number[] };
};

/** Host → engine. */
export type ToEngine =
  /** Load a checkpoint (replacing any loaded one). */
  | { type: 'load'; id: number; dir: string; options: RuntimeOptions }
  /** Generate from token ids; tokens stream back as `token` messages. */
  | { type: 'generate'; id: number; promptIds: number[]; options: RemoteGenerateOptions }
  /** Tokenize a chat prompt with the loaded checkpoint's template. */
  | { type: 'encodeChat'; id: number; prompt: string }
  /** Stop request `target` between steps. */
  | { type: 'cancel'; target: number };

/** Engine → host. */
export type FromEngine =
  | { type: 'loaded'; id: number; report: SessionReport }
  | { type: 'encoded'; id: number; ids: number[] }
  | { type: 'token'; id: number; token: number; text: string }
  | { type: 'done'; id: number; result: GenerateResult }
  | { type: 'error'; id: number; message: string; cancelled?: boolean };
