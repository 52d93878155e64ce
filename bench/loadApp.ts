#!/usr/bin/env node
/**
 * `node dist/bench/loadApp.js <app folder> [--webhook <event file>]`: what the Functions Node
 * worker does first in a fresh process, and nothing else. With `@azure/functions-core` provided
 * (dev/host/coreApi.ts, as the worker's setupCoreModule.ts does), it requires every file
 * package.json main names, in order (dev/host/discovery.ts), and prints as JSON how long the
 * requires took (wall clock and this process's CPU time) and how many functions they registered.
 *
 * With `--webhook`, it then does what the worker does up to the first webhook's answer: the app's
 * appStart hooks and capabilities (as at FunctionLoad), then one invocation of EventsReceiver with the
 * event in the file as the request body, run by the local host's invoker (the worker's invocation
 * path, dev/host/invoker.ts), storage reached through the app settings in the environment. It adds
 * when the answer came, in ms from this process's start (`webhookMs`, and `webhookCpuMs` of CPU).
 * Nothing of the local host's own start is in this process: in Azure the host is another process.
 * bench/coldStart.ts runs it once per start.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { installCoreApi, type CoreApiHost } from '../dev/host/coreApi';
import { findEntryPoints, loadEntryPoints } from '../dev/host/discovery';
import { buildFunctions } from '../dev/host/functions';
import { Invoker } from '../dev/host/invoker';
import { errorMessage, HostLog } from '../dev/host/log';
import type { StorageConnections } from '../dev/host/storage';

const [appRoot, flag, eventFile] = process.argv.slice(2);
if (!appRoot || (flag !== undefined && (flag !== '--webhook' || !eventFile))) {
    throw new Error('Usage: node dist/bench/loadApp.js <app folder> [--webhook <event file>]');
}
const webhookFunction = 'EventsReceiver';

const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

async function main(): Promise<Record<string, number>> {
    const core = installCoreApi();
    const entryPoints = findEntryPoints(appRoot);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    loadEntryPoints(appRoot, entryPoints);
    const loadMs = performance.now() - started;
    const loadCpuMs = cpuMs(process.cpuUsage(cpuBefore));
    const loaded = { loadMs, loadCpuMs, functions: core.registrations.size };
    if (!eventFile) return loaded;
    const answer = await firstWebhook(core, readFileSync(eventFile));
    // performance.now() counts from the process's start (performance.timeOrigin), as does process.cpuUsage().
    return { ...loaded, webhookMs: performance.now(), webhookCpuMs: cpuMs(process.cpuUsage()), status: answer };
}

/** Runs EventsReceiver once, as the worker would for the host's first HTTP request; its status code. */
async function firstWebhook(core: CoreApiHost, body: Buffer): Promise<number> {
    const programmingModel = core.programmingModel;
    const registration = [...core.registrations.values()].find(({ metadata }) => metadata.name === webhookFunction);
    if (!programmingModel || !registration) throw new Error(`The app registered no ${webhookFunction}`);
    // An HTTP trigger names no storage connection, so building its definition reads none.
    const noStorage = {} as StorageConnections;
    const [fn] = buildFunctions([registration], {}, noStorage);
    const log = new HostLog(() => undefined);
    const noOutputs = {
        writeAll: (outputs: readonly unknown[]) =>
            outputs.length === 0 ? Promise.resolve() : Promise.reject(new Error('the webhook has no output bindings')),
    };
    const invoker = new Invoker(core, programmingModel, log, noOutputs, {
        functionTimeoutMs: undefined,
        verbose: false,
    });
    await invoker.runAppHook('appStart', { functionAppDirectory: appRoot });
    await programmingModel.getCapabilities?.({});
    core.startupFinished = true;
    const outcome = await invoker.invoke(fn, {
        reason: 'bench/loadApp.ts: the first webhook',
        inputData: [
            {
                name: fn.triggerBindingName,
                data: {
                    http: {
                        method: 'POST',
                        url: 'http://127.0.0.1/api/eventsreceiver',
                        headers: { 'content-type': 'application/cloudevents+json' },
                        query: {},
                        params: {},
                        body: { bytes: body },
                    },
                },
            },
        ],
        triggerMetadata: {},
    });
    const status = Number(outcome.response?.returnValue?.http?.statusCode ?? 0);
    if (!outcome.succeeded || status !== 200) {
        throw new Error(
            `${webhookFunction} answered ${status || 'nothing'}: ${outcome.error === undefined ? '' : errorMessage(outcome.error)}`,
        );
    }
    return status;
}

main().then(
    // The app may hold the event loop open (agents, timers); the measurement is done.
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0)),
    (error: unknown) => {
        console.error(error);
        process.exit(1);
    },
);
