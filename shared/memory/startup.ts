/**
 * The start-up memory check: once per process, at its first invocation, the app logs whether the
 * instance's memory holds the worst case of its concurrency (budget.ts), as step=memory-fits, or
 * as the warning step=memory-short naming the figures and the settings to change. It runs in the
 * first invocation rather than in the appStart hook so that the line goes through the invocation's
 * logger into Application Insights like every other step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { constrainedMemory } from 'node:process';
import { totalmem } from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../config';
import { logStep, warnStep, type StepLogger } from '../log';
import { memoryBudget, type MemoryBudget } from './budget';

type Env = Record<string, string | undefined>;

/** The queue settings of host.json, as the host applies them: app settings AzureFunctionsJobHost__extensions__queues__* override the file. */
export function queueConcurrencySettings(
    appRoot: string,
    env: Env = process.env,
): { batchSize: number; newBatchThreshold: number } {
    let queues: Record<string, unknown> = {};
    try {
        const host = JSON.parse(readFileSync(path.join(appRoot, 'host.json'), 'utf8')) as {
            extensions?: { queues?: Record<string, unknown> };
        };
        queues = host.extensions?.queues ?? {};
    } catch {
        // No readable host.json: the host's defaults.
    }
    const option = (name: string, fallback: number): number => {
        const override = Object.entries(env).find(
            ([key]) => key.toLowerCase() === `azurefunctionsjobhost__extensions__queues__${name.toLowerCase()}`,
        )?.[1];
        const value = Number(override ?? queues[name]);
        return Number.isInteger(value) && value >= 0 ? value : fallback;
    };
    // The host's defaults (functions-bindings-storage-queue, host.json): batchSize 16, newBatchThreshold batchSize / 2.
    const batchSize = option('batchSize', 16);
    return { batchSize, newBatchThreshold: option('newBatchThreshold', Math.floor(batchSize / 2)) };
}

/** The function app's folder (host.json beside package.json), found upwards from `start` (dist/ in the package). */
export function findAppRoot(start: string): string {
    for (let dir = start, up = 0; up < 4; dir = path.dirname(dir), up++) {
        if (existsSync(path.join(dir, 'host.json')) && existsSync(path.join(dir, 'package.json'))) return dir;
    }
    return start;
}

/** InstanceMemoryMB, else the process's cgroup limit, else the machine's memory. */
export function instanceMemoryMB(config: Pick<AppConfig, 'instanceMemoryMB'>): number {
    if (config.instanceMemoryMB !== undefined) return config.instanceMemoryMB;
    const limit = constrainedMemory?.() ?? 0;
    return Math.floor((limit > 0 ? Math.min(limit, totalmem()) : totalmem()) / (1024 * 1024));
}

/** Computes the budget and logs it: memory-short (a warning) when the worst case does not fit. */
export function checkMemory(
    logger: StepLogger,
    appRoot: string,
    config: Pick<AppConfig, 'downloadConcurrency' | 'instanceMemoryMB'>,
    env: Env = process.env,
): MemoryBudget {
    const budget = memoryBudget({
        ...queueConcurrencySettings(appRoot, env),
        downloadConcurrency: config.downloadConcurrency,
        instanceMemoryMB: instanceMemoryMB(config),
    });
    const fields = {
        instanceMemoryMB: budget.instanceMemoryMB,
        worstCaseMiB: budget.worstCaseMiB,
        batchSize: budget.batchSize,
        newBatchThreshold: budget.newBatchThreshold,
        downloadConcurrency: budget.downloadConcurrency,
        streamsAtOnce: budget.streamsAtOnce,
    };
    if (budget.fits) {
        logStep(logger, 'memory-fits', fields);
    } else {
        warnStep(logger, 'memory-short', {
            ...fields,
            advice: 'lower host.json batchSize/newBatchThreshold or DownloadConcurrency, or raise instanceMemoryMB (docs/deploy.md, Memory)',
        });
    }
    return budget;
}
