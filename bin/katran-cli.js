#!/usr/bin/env node
// Thin launcher so the package bin exists before `tsc` has produced dist/.
import '../dist/runtime/katran/cli.js';
