#!/usr/bin/env node
// Thin launcher so the package bin exists before `tsc` has produced dist/.
import { main } from '../dist/cli/katran/main.js';

process.exitCode = await main(process.argv.slice(2));
