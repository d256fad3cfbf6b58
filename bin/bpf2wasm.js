#!/usr/bin/env node
// Thin launcher so the package bin exists before `tsc` has produced dist/. A plain help
// request (`--help`, or `<command> --help`) is answered from the text yargs rendered at
// build time (scripts/render-help.mjs), without loading yargs; anything else, or a missing
// rendering, goes to the real front end.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
// The topics are the files render-help wrote (an unknown one falls through to yargs), so
// no list of subcommands is kept here.
const topic =
  args.length === 1 && args[0] === '--help'
    ? 'main'
    : args.length === 2 && args[1] === '--help' && /^[a-z][a-z-]*$/.test(args[0]) && args[0] !== 'main'
      ? args[0]
      : undefined;
let text;
if (topic && !process.env.BPF2WASM_LIVE_HELP) {
  try {
    text = readFileSync(new URL(`../dist/cli/help/${topic}.txt`, import.meta.url), 'utf8');
  } catch {
    text = undefined;
  }
}
if (text !== undefined) process.stdout.write(text);
else await import('../dist/cli/bpf2wasm.js');
