#!/usr/bin/env node
// Thin launcher so the package bin exists before `tsc` has produced dist/.
import '../dist/cli/bpf2wasm.js';
