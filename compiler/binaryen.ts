// binaryen, loaded (compiler/binaryen-load.ts): what codegen*.ts import instead of the
// package, as a value and as the namespace of its types. Importing this module loads it.

import type Api from 'binaryen';
import { type BinaryenSource, loadBinaryen } from './binaryen-load.js';

const loaded = await loadBinaryen();

/** How this process loaded binaryen (test/compiler/binaryen-load.test.ts checks the fast path is taken). */
export const binaryenSource: BinaryenSource = loaded.source;

const binaryen = loaded.binaryen;
// The types codegen names as `binaryen.X`, beside the value (a namespace of types only
// merges with the const).
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace binaryen {
  export type ExpressionRef = Api.ExpressionRef;
  export type Module = Api.Module;
  export type Type = Api.Type;
  export type Relooper = Api.Relooper;
}
export default binaryen;
