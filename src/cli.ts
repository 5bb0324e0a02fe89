#!/usr/bin/env node
/** The `crab` command line. */
console.log('crab: not yet');
