// The package's root folder, found from the calling module's location, so that files kept
// in the source tree (the native addon's build, katran.proto, examples) are reached the
// same way from dist/ and from any folder depth. And the build this module belongs to:
// `npm run build` writes dist/, bin/ launchers and build/examples/ at the root, `npm test`
// writes the same layout under .test-build/ (scripts/build-test.mjs), so that a test build
// never rewrites files a command running from dist/ depends on.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

const here = dirname(fileURLToPath(import.meta.url));
export const packageRoot: string = findRoot(here);

/** The folder holding the dist/ this module was compiled into (this file is dist/core/package-root.js), its bin/ launchers and build/examples/. */
export const buildRoot: string = join(here, '..', '..');

/** The `bpf2wasm` launcher of this build. */
export const BPF2WASM_BIN: string = join(buildRoot, 'bin', 'bpf2wasm.js');
/** The `katran-cli` launcher of this build. */
export const KATRAN_CLI_BIN: string = join(buildRoot, 'bin', 'katran-cli.js');
/** Where this build's example objects are (build/examples/<name>.o under the build root). */
export const EXAMPLES_BUILD_DIR: string = join(buildRoot, 'build', 'examples');
