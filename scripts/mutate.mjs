// Mutation testing of the core modules: one small change at a time to a module's source
// (a flipped comparison, a swapped operator, a nudged constant, a negated condition, a
// dropped early return), rebuilt in a scratch copy of the repository and checked by the
// fast unit tests mapped to that module. A mutant is killed when a test fails or times
// out; a survivor is either a gap in the tests or an equivalent mutant (docs/mutation.md).
//
//   npm run mutate                      MUTANTS (default 60: about 18 min here with the machine shared), SEED (default 1)
//   MUTATE_ONLY=runtime/,isa npm run mutate   only the sampled mutants of modules whose path contains one of these
//                                         (the same mutants as in a full run: sampling ignores it)
//   MUTATE_LIST=1 npm run mutate        list the sampled mutants, run nothing
//
// Sampling is deterministic: the same SEED and MUTANTS give the same mutants, shared out
// between modules in proportion to their mutation sites (at least one each).

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ts = createRequire(import.meta.url)('typescript');

const MUTANTS = Number(process.env.MUTANTS ?? 60);
const SEED = Number(process.env.SEED ?? 1);
/** Comma-separated parts of module paths: only those modules' share of the sample runs. */
const ONLY = process.env.MUTATE_ONLY?.split(',').filter(Boolean);
const LIST = process.env.MUTATE_LIST === '1';
/** Per test file of a mutant: generous against a 2-core machine, short against a mutant's endless loop. */
const FILE_TIMEOUT_MS = Number(process.env.MUTANT_TIMEOUT_S ?? 60) * 1000;

// Module → the fast test files (no root, no clang) that should notice a change in it,
// cheapest first so that most mutants die after one file.
const CODEGEN_TESTS = ['golden/codegen', 'compiler/codegen-shapes', 'conformance/vectors-run', 'maps/updates-wasm', 'runtime/faults'];
const MAP_TESTS = [
  'maps/spec',
  'maps/array',
  'maps/hash',
  'maps/lpm',
  'maps/ringbuf',
  'maps/perf-event-array',
  'maps/key-hash',
  'maps/threads',
  'maps/updates-wasm',
];
const RUNTIME_TESTS = [
  'runtime/xdp',
  'runtime/helpers',
  'runtime/faults',
  'runtime/ringbuf-printk',
  'runtime/containment',
  'examples/decap',
  'maps/updates-wasm',
];
const MODULES = [
  ['core/isa.ts', ['compiler/asm', 'compiler/verifier', 'golden/codegen', 'conformance/vectors-run', 'fuzz/generate']],
  ['compiler/codegen.ts', CODEGEN_TESTS],
  ['compiler/codegen-maps.ts', CODEGEN_TESTS],
  ...['array', 'base', 'descriptor', 'fd-array', 'hash', 'index', 'lpm-trie', 'pool', 'ringbuf', 'perf-event-array'].map((m) => [
    `runtime/maps/${m}.ts`,
    m === 'ringbuf' ? [...MAP_TESTS, 'runtime/ringbuf-printk'] : MAP_TESTS,
  ]),
  ['runtime/helpers.ts', RUNTIME_TESTS],
  ['runtime/xdp.ts', RUNTIME_TESTS],
  ['runtime/fib.ts', ['runtime/fib']],
  ['katran/control-plane.ts', ['katran/control-plane', 'katran/maglev', 'katran/config']],
  ['katran/hash/maglev.ts', ['katran/maglev', 'katran/hash', 'katran/control-plane']],
];

/** mulberry32: small, seedable, the same sequence everywhere. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(items, random) {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const FLIP = {
  [ts.SyntaxKind.LessThanToken]: '<=',
  [ts.SyntaxKind.LessThanEqualsToken]: '<',
  [ts.SyntaxKind.GreaterThanToken]: '>=',
  [ts.SyntaxKind.GreaterThanEqualsToken]: '>',
  [ts.SyntaxKind.EqualsEqualsEqualsToken]: '!==',
  [ts.SyntaxKind.ExclamationEqualsEqualsToken]: '===',
  [ts.SyntaxKind.PlusToken]: '-',
  [ts.SyntaxKind.MinusToken]: '+',
  [ts.SyntaxKind.AmpersandAmpersandToken]: '||',
  [ts.SyntaxKind.BarBarToken]: '&&',
};
const OPERATOR_NAME = {
  '<=': 'comparison',
  '<': 'comparison',
  '>=': 'comparison',
  '>': 'comparison',
  '!==': 'equality',
  '===': 'equality',
  '-': 'arithmetic',
  '+': 'arithmetic',
  '||': 'logical',
  '&&': 'logical',
};

/** Whether a node sits in a type (literal types, array sizes in types): not code to mutate. */
function inType(node) {
  for (let n = node.parent; n; n = n.parent) {
    if (ts.isTypeNode(n) || ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) return true;
  }
  return false;
}

/** Every mutation of one source file: { file, start, end, replacement, operator, line }. */
function mutationsOf(file) {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out = [];
  const add = (node, start, end, replacement, operator) => {
    const at = source.getLineAndCharacterOfPosition(start);
    out.push({ file, start, end, replacement, operator, line: `${at.line + 1}:${at.character + 1}`, original: text.slice(start, end) });
  };
  const visit = (node) => {
    if (ts.isBinaryExpression(node) && FLIP[node.operatorToken.kind] !== undefined) {
      const op = node.operatorToken;
      // `+` on strings builds messages; swapping it is a type error or a message change.
      const onString =
        op.kind === ts.SyntaxKind.PlusToken &&
        [node.left, node.right].some((s) => ts.isStringLiteral(s) || ts.isTemplateExpression(s) || ts.isNoSubstitutionTemplateLiteral(s));
      if (!onString) add(node, op.getStart(source), op.getEnd(), FLIP[op.kind], OPERATOR_NAME[FLIP[op.kind]]);
    }
    if (ts.isNumericLiteral(node) && !inType(node)) {
      const value = Number(node.getText(source).replace(/_/g, ''));
      if (Number.isSafeInteger(value)) {
        add(node, node.getStart(source), node.getEnd(), `${value + 1}`, 'literal+1');
        if (value !== 0) add(node, node.getStart(source), node.getEnd(), '0', 'literal→0');
      }
    }
    if (ts.isBigIntLiteral(node) && !inType(node)) {
      const value = BigInt(node.getText(source).slice(0, -1).replace(/_/g, ''));
      add(node, node.getStart(source), node.getEnd(), `${value + 1n}n`, 'literal+1');
      if (value !== 0n) add(node, node.getStart(source), node.getEnd(), '0n', 'literal→0');
    }
    if (ts.isIfStatement(node)) {
      const cond = node.expression;
      add(node, cond.getStart(source), cond.getEnd(), `!(${cond.getText(source)})`, 'negate-if');
      // An early exit: `if (c) return x;` (or `{ return x; }`): drop the return.
      const then = node.thenStatement;
      const ret = ts.isReturnStatement(then)
        ? then
        : ts.isBlock(then) && then.statements.length === 1 && ts.isReturnStatement(then.statements[0])
          ? then.statements[0]
          : undefined;
      if (ret && !node.elseStatement) add(node, ret.getStart(source), ret.getEnd(), ';', 'drop-return');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** MUTANTS shared out in proportion to each module's sites, at least one each; seeded. */
function sample(all) {
  const random = rng(SEED);
  const total = all.reduce((n, m) => n + m.mutations.length, 0);
  const share = all.map((m) => Math.max(1, Math.floor((MUTANTS * m.mutations.length) / total)));
  // Largest remainders get the places rounding left over, in module order for ties.
  let left = MUTANTS - share.reduce((a, b) => a + b, 0);
  const order = all.map((m, i) => [i, (MUTANTS * m.mutations.length) / total - share[i]]).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const [i] of order) if (left-- > 0) share[i]++;
  return all.flatMap((m, i) =>
    shuffle(m.mutations, random)
      .slice(0, share[i])
      .map((mut) => ({ ...mut, tests: m.tests })),
  );
}

function apply(text, m) {
  return text.slice(0, m.start) + m.replacement + text.slice(m.end);
}

/** A copy of the repository's files (tracked and the build outputs tests read), node_modules linked. */
function makeScratch() {
  const dir = mkdtempSync(join(tmpdir(), 'bpf2wasm-mutate-'));
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    if (!existsSync(join(root, f))) continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(root, f), join(dir, f));
  }
  for (const built of ['build', 'native/build'])
    if (existsSync(join(root, built))) cpSync(join(root, built), join(dir, built), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const tsc = (dir) =>
  spawnSync(process.execPath, [join(dir, 'node_modules/typescript-native/bin/tsc'), '-p', join(dir, 'tsconfig.json')], {
    cwd: dir,
    encoding: 'utf8',
  });

/** Runs test files in order until one fails: the name of the failing one, or undefined. */
async function firstFailure(runTestFile, dir, tests, env) {
  for (const name of tests) {
    const file = join(dir, 'dist', 'test', `${name}.test.js`);
    if (!existsSync(file)) throw new Error(`mutate: no test ${name} (mapped in scripts/mutate.mjs)`);
    const { summary } = await runTestFile(file, { timeoutMs: FILE_TIMEOUT_MS, exitGraceMs: 10_000, env });
    if (summary.failed > 0) return summary.failures.some((f) => /timed out|did not exit/.test(f)) ? `${name} (timeout)` : name;
  }
  return undefined;
}

const modules = MODULES.map(([file, tests]) => ({ file, tests, mutations: mutationsOf(file) }));
const chosen = sample(modules).filter((m) => !ONLY || ONLY.some((part) => m.file.includes(part)));
const tested = modules.filter((m) => chosen.some((c) => c.file === m.file));
if (LIST) {
  for (const m of chosen) console.log(`${m.file}:${m.line} ${m.operator}: ${m.original} → ${m.replacement}`);
  process.exit(0);
}

const started = Date.now();
const scratch = makeScratch();
const results = [];
// An interrupted run leaves no scratch copy behind either.
process.on('SIGINT', () => {
  rmSync(scratch, { recursive: true, force: true });
  process.exit(130);
});
try {
  if (tsc(scratch).status !== 0) throw new Error('mutate: the unmutated copy does not build');
  const { runTestFile } = await import(pathToFileURL(join(scratch, 'dist/test/support/run-file.js')).href);
  // The conformance vectors sit beside the checkout, not beside the scratch copy.
  const env = { BPF_CONFORMANCE_DIR: resolve(root, '..', 'shared', 'bpf_conformance', 'tests') };
  const allTests = [...new Set(tested.flatMap((m) => m.tests))];
  const broken = await firstFailure(runTestFile, scratch, allTests, env);
  if (broken) throw new Error(`mutate: ${broken} fails without any mutant; fix that first`);
  console.log(
    `mutate: seed ${SEED}, ${chosen.length} mutants of ${modules.reduce((n, m) => n + m.mutations.length, 0)} sites in ${tested.length} modules (baseline green in ${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );

  for (const [i, m] of chosen.entries()) {
    const path = join(scratch, m.file);
    const original = readFileSync(path, 'utf8');
    writeFileSync(path, apply(original, m));
    let outcome;
    try {
      const built = tsc(scratch);
      outcome =
        built.status !== 0
          ? { status: 'stillborn' }
          : await firstFailure(runTestFile, scratch, m.tests, env).then((by) => (by ? { status: 'killed', by } : { status: 'survived' }));
    } finally {
      writeFileSync(path, original);
    }
    results.push({ ...m, ...outcome });
    const where = `${m.file}:${m.line} ${m.operator}: ${m.original} → ${m.replacement}`;
    console.log(`[${i + 1}/${chosen.length}] ${outcome.status.padEnd(9)} ${where}${outcome.by ? `  (by ${outcome.by})` : ''}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

// The score: killed / (killed + survived); stillborn mutants (type errors) count for neither.
console.log('\nmodule                        killed / total   score   stillborn');
const rows = [...new Set(results.map((r) => r.file))].map((file) => {
  const mine = results.filter((r) => r.file === file);
  const killed = mine.filter((r) => r.status === 'killed').length;
  const total = mine.filter((r) => r.status !== 'stillborn').length;
  return { file, killed, total, stillborn: mine.length - total };
});
const line = ({ file, killed, total, stillborn }) =>
  `${file.padEnd(30)}${String(killed).padStart(6)} / ${String(total).padEnd(6)}${total ? `${((100 * killed) / total).toFixed(0)}%`.padStart(6) : '     -'}${String(stillborn).padStart(10)}`;
for (const r of rows) console.log(line(r));
const sum = rows.reduce(
  (a, r) => ({ file: 'all', killed: a.killed + r.killed, total: a.total + r.total, stillborn: a.stillborn + r.stillborn }),
  { file: 'all', killed: 0, total: 0, stillborn: 0 },
);
console.log(line(sum));
const survivors = results.filter((r) => r.status === 'survived');
if (survivors.length) {
  console.log('\nsurvivors:');
  for (const s of survivors) console.log(`  ${s.file}:${s.line} ${s.operator}: ${s.original} → ${s.replacement}`);
}
console.log(`\nmutate: ${((Date.now() - started) / 60000).toFixed(1)} min`);
