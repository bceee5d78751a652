#!/usr/bin/env node
// servelab's command-line entry: runs the TypeScript sources through tsx, so the command
// works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main, exitQuietlyOnClosedPipe } = await import('../core/cli.ts');
exitQuietlyOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));
