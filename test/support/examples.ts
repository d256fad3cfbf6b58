// The example eBPF programs (examples/*.bpf.c), compiled by scripts/build-examples.mjs
// into build/examples/<name>.o under the build the tests run from (.test-build/ for `npm
// test`, the checkout for `npm run build`). Tests ask for an object by example name; a missing or
// stale object is rebuilt through the same script `npm run build` uses.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildRoot, EXAMPLES_BUILD_DIR, packageRoot } from '../../core/package-root.js';

const root = packageRoot;
const sourceDir = join(root, 'examples');
const buildScript = join(root, 'scripts', 'build-examples.mjs');

/** Names of every example (`xdp_pass`, `maps_zoo`, ...), from the C sources present. */
export function exampleNames(): string[] {
  return readdirSync(sourceDir)
    .filter((f) => f.endsWith('.bpf.c'))
    .map((f) => f.slice(0, -'.bpf.c'.length))
    .sort();
}

/** Absolute path of this build's build/examples/<name>.o, compiling the examples first when it is missing or older than its source. */
export function examplePath(name: string): string {
  const source = join(sourceDir, `${name}.bpf.c`);
  const object = join(EXAMPLES_BUILD_DIR, `${name}.o`);
  if (!existsSync(source)) throw new Error(`no example '${name}': ${source} does not exist`);
  if (!existsSync(object) || statSync(object).mtimeMs < statSync(source).mtimeMs) {
    try {
      execFileSync(process.execPath, [buildScript, buildRoot], { stdio: 'pipe', encoding: 'utf8' });
    } catch (e) {
      const stderr = (e as { stderr?: string }).stderr?.trim();
      throw new Error(stderr || `scripts/build-examples.mjs failed: ${(e as Error).message}`);
    }
  }
  return object;
}

/** The bytes of an example's object, for `loadObject`. */
export function exampleBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(examplePath(name)));
}
