#!/usr/bin/env node
// The CLI runs from its bundle, dist/bundle/ (scripts/bundle-cli.mjs links tsc's dist/ into it);
// `npm ci` builds both through the prepare script.
import('../dist/bundle/main.mjs').then((m) => m.main(process.argv.slice(2)));
