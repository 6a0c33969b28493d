#!/usr/bin/env node
// The compiled CLI lives in dist/; `npm ci` builds it through the prepare script.
import('../dist/cli/main.js').then((m) => m.main(process.argv.slice(2)));
