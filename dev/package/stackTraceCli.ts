#!/usr/bin/env node
/**
 * `npm run stacktrace [-- --maps <dir>] < trace.txt`: prints a stack trace from the deployed
 * package (Application Insights, the log stream) with its bundle positions turned back into
 * source files and lines (stackTrace.ts). The maps default to .package/sourcemaps, where
 * `npm run package` writes them: use the ones of the build that is deployed.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultOutDir, sourceMapsFolderName } from './build';
import { mapStackTrace } from './stackTrace';

const { values } = parseArgs({ options: { maps: { type: 'string' } } });
const root = resolve(__dirname, '..', '..', '..');
const maps = resolve(values.maps ?? join(root, defaultOutDir, sourceMapsFolderName));
process.stdout.write(mapStackTrace(readFileSync(0, 'utf8'), maps));
