import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--liftoff-only');
const t0 = performance.now();
const { default: b } = await import('binaryen');
const t1 = performance.now();
const m = new b.Module(); m.addFunction('f', b.none, b.i32, [], m.i32.const(1)); m.addFunctionExport('f','f'); const out = m.emitBinary();
console.log('plain import', (t1 - t0).toFixed(0), 'ms; total', (performance.now() - t0).toFixed(0), out.length);
