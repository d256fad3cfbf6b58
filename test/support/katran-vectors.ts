// Loads the JSON vectors of test/data/katran (see the README there) from the repository.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function katranDataDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'test', 'data', 'katran');
}

export function loadVectors<T>(name: string): T {
  return JSON.parse(readFileSync(join(katranDataDir(), name), 'utf8')) as T;
}

/** SHA-256 of ring slots as little-endian u32 (-1 as 0xFFFFFFFF), how the vectors store rings. */
export function ringSha256(ring: ArrayLike<number>): string {
  const bytes = Buffer.alloc(ring.length * 4);
  for (let i = 0; i < ring.length; i++) bytes.writeUInt32LE(ring[i]! >>> 0, i * 4);
  return createHash('sha256').update(bytes).digest('hex');
}
