#!/usr/bin/env node
// Thin launcher so the package bin exists before `tsc` has produced dist/.
import { main } from '../dist/runtime/katran/cli.js';

process.exitCode = await main(process.argv.slice(2));
