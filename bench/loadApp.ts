#!/usr/bin/env node
/**
 * `node dist/bench/loadApp.js <app folder>`: what the Functions Node worker does first in a fresh
 * process, and nothing else. With `@azure/functions-core` provided (dev/host/coreApi.ts, as the
 * worker's setupCoreModule.ts does), it requires every file package.json main names, in order
 * (dev/host/discovery.ts), and prints as JSON how long the requires took (wall clock and this
 * process's CPU time) and how many functions they registered. bench/coldStart.ts runs it once per start.
 */
import { performance } from 'node:perf_hooks';
import { installCoreApi } from '../dev/host/coreApi';
import { findEntryPoints, loadEntryPoints } from '../dev/host/discovery';

const appRoot = process.argv[2];
if (!appRoot) throw new Error('Usage: node dist/bench/loadApp.js <app folder>');
const core = installCoreApi();
const entryPoints = findEntryPoints(appRoot);
const started = performance.now();
const cpuBefore = process.cpuUsage();
loadEntryPoints(appRoot, entryPoints);
const loadMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const loadCpuMs = (cpu.user + cpu.system) / 1000;
// The app may hold the event loop open (agents, timers); the measurement is done.
process.stdout.write(`${JSON.stringify({ loadMs, loadCpuMs, functions: core.registrations.size })}\n`, () =>
    process.exit(0),
);
