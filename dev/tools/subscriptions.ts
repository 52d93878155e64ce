#!/usr/bin/env node
/**
 * `npm run subscriptions -- list | add <file.json> [--name <name>] | remove <id|name>`
 *
 * The subscription operations of EventsSubscriber and EventsDeSubscriber from a terminal, through
 * the same code (shared/subscriptions): `add` validates the request by the same rules, registers it
 * with Altinn and writes active-subscriptions/{name}.json; `remove` deletes it in Altinn and removes
 * the active-subscriptions blob; `list` shows Altinn's subscriptions next to the blobs. Settings come
 * from local.settings.json (Values) in the current folder, with the environment winning, as for the
 * local host. Exit code 0 done, 1 refused or bad usage, 2 failed (try again later).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createAltinnStack, type AltinnStack } from '../../shared/altinn';
import { createEventsApi, type Subscription } from '../../shared/altinn/events';
import { redactUrl } from '../../shared/altinn/origins';
import { ConfigError, loadConfig } from '../../shared/config';
import { formatFields, type StepLogger } from '../../shared/log';
import { containers } from '../../shared/names';
import { createStorage } from '../../shared/storage';
import { listNames, readText } from '../../shared/subscriptions/blobs';
import {
    activeBlobs,
    addSubscription,
    describeFailure,
    isRefused,
    removeSubscription,
    requestName,
    resolveRemoveId,
    type SubscriptionDeps,
} from '../../shared/subscriptions';
import { HostStartupError } from '../host/log';
import { mergeSettings, readLocalSettings } from '../host/settings';

export const usage = [
    'Usage: npm run subscriptions -- <command>',
    '  list                          Altinn subscriptions, with their active-subscriptions blobs, and pending or failed files',
    '  add <file.json> [--name <n>]  validate, register with Altinn, write active-subscriptions/<n>.json (default n: the file name)',
    '  remove <id|name>              delete in Altinn (already gone is fine) and remove the active-subscriptions blob(s)',
].join('\n');

export interface CliIo {
    /** Where settings come from: local.settings.json in `cwd`, overlaid by `env`. */
    env: Record<string, string | undefined>;
    cwd: string;
    out: (line: string) => void;
    err: (line: string) => void;
}

class UsageError extends Error {}

interface Command {
    name: 'list' | 'add' | 'remove';
    target?: string;
    as?: string;
}

function parseArgs(args: readonly string[]): Command {
    const positional: string[] = [];
    let as: string | undefined;
    for (let index = 0; index < args.length; index++) {
        const arg = args[index];
        if (arg === '--name' || arg.startsWith('--name=')) {
            as = arg.includes('=') ? arg.slice('--name='.length) : args[++index];
            if (!as) throw new UsageError('--name needs a value.');
        } else if (arg === '--help' || arg === '-h') {
            throw new UsageError('');
        } else if (arg.startsWith('--')) {
            throw new UsageError(`Unknown option ${arg}.`);
        } else {
            positional.push(arg);
        }
    }
    const [name, target, ...rest] = positional;
    if (rest.length > 0) throw new UsageError(`Unexpected argument ${rest[0]}.`);
    if (name === 'list' && target === undefined && as === undefined) return { name };
    if (name === 'add' && target !== undefined) return { name, target, as };
    if (name === 'remove' && target !== undefined && as === undefined) return { name, target };
    throw new UsageError(name ? `Wrong arguments for ${name}.` : 'A command is required.');
}

/** Runs one command; resolves to the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
    let command: Command;
    try {
        command = parseArgs(args);
    } catch (error) {
        if (error instanceof UsageError) {
            if (error.message) io.err(error.message);
            io.err(usage);
            return error.message ? 1 : 0;
        }
        throw error;
    }

    let stack: AltinnStack | undefined;
    try {
        const settings = mergeSettings(readLocalSettings(io.cwd), io.env);
        const config = loadConfig(settings);
        stack = createAltinnStack(config);
        const deps: SubscriptionDeps = {
            config,
            storage: createStorage(settings),
            events: createEventsApi(stack.http, config),
        };
        const logger = stderrLogger(io);
        if (command.name === 'list') return await list(deps, io, logger);
        if (command.name === 'add') return await add(deps, command.target!, command.as, io, logger);
        return await remove(deps, command.target!, io, logger);
    } catch (error) {
        if (error instanceof ConfigError || error instanceof HostStartupError) {
            io.err(`Configuration: ${error.message}`);
            return 1;
        }
        const { message } = describeFailure(error);
        if (isRefused(error)) {
            io.err(`Refused: ${message}`);
            return 1;
        }
        io.err(`Failed: ${message}`);
        return 2;
    } finally {
        await stack?.close();
    }
}

async function add(
    deps: SubscriptionDeps,
    file: string,
    as: string | undefined,
    io: CliIo,
    logger: StepLogger,
): Promise<number> {
    let text: string;
    try {
        text = readFileSync(file, 'utf8');
    } catch (error) {
        io.err(`Cannot read ${file}: ${(error as Error).message}`);
        return 1;
    }
    const name = as ?? requestName(basename(file));
    const { subscription, activeBlob } = await addSubscription(deps, name, text, logger);
    io.out(`Registered subscription ${subscription.id} as ${containers.activeSubscriptions}/${activeBlob}:`);
    io.out(describe(subscription));
    if (!subscription.validated) {
        io.out(
            `Altinn now sends the validation event to ${redactUrl(subscription.endPoint)}; events flow once it answers 2xx (and Altinn's cache refreshes, up to an hour).`,
        );
    }
    return 0;
}

async function remove(deps: SubscriptionDeps, target: string, io: CliIo, logger: StepLogger): Promise<number> {
    const id = /^\d+$/.test(target) ? Number(target) : await resolveRemoveId(deps, requestName(target), '');
    const result = await removeSubscription(deps, id, logger);
    io.out(
        result.altinn === 'deleted'
            ? `Deleted subscription ${id} in Altinn.`
            : `Subscription ${id} was already gone in Altinn.`,
    );
    io.out(
        result.removedBlobs.length > 0
            ? `Removed ${result.removedBlobs.map((blob) => `${containers.activeSubscriptions}/${blob}`).join(', ')}.`
            : `No ${containers.activeSubscriptions} blob held subscription ${id}.`,
    );
    return 0;
}

async function list(deps: SubscriptionDeps, io: CliIo, logger: StepLogger): Promise<number> {
    const [subscriptions, blobs] = await Promise.all([deps.events.listSubscriptions(logger), activeBlobs(deps)]);
    io.out(`Altinn has ${subscriptions.length} subscription(s) for this owner:`);
    for (const subscription of subscriptions) {
        const names = blobs.filter((blob) => blob.subscription?.id === subscription.id).map((blob) => blob.blobName);
        io.out(
            `  ${describe(subscription)}  blob=${names.length > 0 ? names.map((n) => `${containers.activeSubscriptions}/${n}`).join(',') : '(none)'}`,
        );
    }
    const known = new Set(subscriptions.map((subscription) => subscription.id));
    for (const blob of blobs.filter((b) => !b.subscription || !known.has(b.subscription.id))) {
        const what = blob.subscription ? `subscription ${blob.subscription.id}, which Altinn does not have` : 'no id';
        io.out(`  ${containers.activeSubscriptions}/${blob.blobName}: ${what}`);
    }
    for (const container of [containers.addSubscriptions, containers.removeSubscriptions]) {
        for (const name of await listNames(deps.storage.container(container))) {
            io.out(`Pending: ${container}/${name} (picked up by the next run)`);
        }
    }
    const failed = deps.storage.container(containers.failedSubscriptions);
    for (const name of await listNames(failed)) {
        let reason: string;
        try {
            const record = JSON.parse((await readText(failed.getBlobClient(name))) ?? '{}') as {
                operation?: string;
                error?: { message?: string };
            };
            reason = `${record.operation ?? ''}: ${record.error?.message ?? ''}`;
        } catch {
            reason = '(unreadable)';
        }
        io.out(`Failed: ${containers.failedSubscriptions}/${name} ${reason}`);
    }
    return 0;
}

function describe(subscription: Subscription): string {
    const fields: Record<string, string | number | boolean | undefined> = {
        id: subscription.id,
        validated: subscription.validated,
        endPoint: redactUrl(subscription.endPoint),
        sourceFilter: subscription.sourceFilter,
        resourceFilter: subscription.sourceFilter ? undefined : subscription.resourceFilter,
        subjectFilter: subscription.subjectFilter,
        typeFilter: subscription.typeFilter,
        created: subscription.created,
    };
    return Object.entries(fields)
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(' ');
}

function stderrLogger(io: CliIo): StepLogger {
    const write = (...args: unknown[]) => io.err(args.map(String).join(' '));
    return { info: write, warn: write, error: write };
}

if (require.main === module) {
    runCli(process.argv.slice(2), {
        env: process.env,
        cwd: process.cwd(),
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
    }).then(
        (code) => process.exit(code),
        (error: unknown) => {
            process.stderr.write(`${formatFields('cli-failed', { error: String(error) })}\n`);
            process.exit(2);
        },
    );
}
