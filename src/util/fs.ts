/**
 * File writes that never leave a half-written file behind: write a temporary file beside the
 * target, then rename it over (atomic on one file system).
 * @module
 */
import { renameSync, writeFileSync } from 'node:fs';

/** Writes text atomically. */
export function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
