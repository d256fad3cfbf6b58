// The package's root folder, found from the calling module's location, so that files kept
// in the source tree (the native addon's build, katran.proto, examples) are reached the
// same way from dist/ and from any folder depth.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

export const packageRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));
