#!/usr/bin/env node
// The `baton` command runs the TypeScript sources directly through tsx's loader, so `npx baton` works
// right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
