/**
 * `aos subscriptions list | add <file.json> [--name <name>] | remove <id|name>`
 *
 * The subscription operations of EventsSubscriber and EventsDeSubscriber from a terminal, through
 * the same code (shared/subscriptions): `add` validates the request by the same rules, registers it
 * with Altinn and writes active-subscriptions/{name}.json; `remove` deletes it in Altinn and removes
 * the active-subscriptions blob; `list` shows Altinn's subscriptions next to the blobs. The Altinn
 * settings come from local.settings.json and the environment (tools/cli.ts), storage from them or
 * --account.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createAltinnStack, type AltinnStack } from '../../shared/altinn';
import { createEventsApi, type Subscription } from '../../shared/altinn/events';
import { redactUrl } from '../../shared/altinn/origins';
import { ConfigError, loadConfig } from '../../shared/config';
import { LocalSettingsError } from '../../shared/localSettings';
import type { StepLogger } from '../../shared/log';
import { containers } from '../../shared/names';
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
import {
    exitCodes,
    settingsOf,
    stderrLogger,
    storageOf,
    UsageError,
    type CliIo,
    type Command,
    parseCommandArgs,
} from '../cli';

const usage = [
    'Usage: npm run aos -- subscriptions <subcommand> [--account <storage account>]',
    '  list                          Altinn subscriptions, with their active-subscriptions blobs, and pending or failed files',
    '  add <file.json> [--name <n>]  validate, register with Altinn, write active-subscriptions/<n>.json (default n: the file name)',
    '  remove <id|name>              delete in Altinn (already gone is fine) and remove the active-subscriptions blob(s)',
].join('\n');

interface Parsed {
    name: 'list' | 'add' | 'remove';
    target?: string;
    as?: string;
    account?: string;
}

function parse(args: string[]): Parsed {
    const { values, positionals } = parseCommandArgs(args, { name: { type: 'string' } });
    const [name, target, ...rest] = positionals;
    const { name: as, account } = values;
    if (rest.length > 0) throw new UsageError(`Unexpected argument ${rest[0]}.`);
    if (name === 'list' && target === undefined && as === undefined) return { name, account };
    if (name === 'add' && target !== undefined) return { name, target, as, account };
    if (name === 'remove' && target !== undefined && as === undefined) return { name, target, account };
    throw new UsageError(name ? `Wrong arguments for ${name}.` : 'A subcommand is required.');
}

export const subscriptionsCommand: Command = {
    usage,
    async run(args, io) {
        const command = parse(args);
        let stack: AltinnStack | undefined;
        try {
            const config = loadConfig(settingsOf(io));
            stack = createAltinnStack(config);
            const deps: SubscriptionDeps = {
                config,
                storage: storageOf(command.account, io),
                events: createEventsApi(stack.http, config),
            };
            const logger = stderrLogger(io);
            if (command.name === 'list') return await list(deps, io, logger);
            if (command.name === 'add') return await add(deps, command.target!, command.as, io, logger);
            return await remove(deps, command.target!, io, logger);
        } catch (error) {
            if (error instanceof ConfigError || error instanceof LocalSettingsError) {
                io.err(`Configuration: ${error.message}`);
                return exitCodes.refused;
            }
            const { message } = describeFailure(error);
            if (isRefused(error)) {
                io.err(`Refused: ${message}`);
                return exitCodes.refused;
            }
            io.err(`Failed: ${message}`);
            return exitCodes.failed;
        } finally {
            await stack?.close();
        }
    },
};

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
        return exitCodes.refused;
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
    return exitCodes.done;
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
    return exitCodes.done;
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
    return exitCodes.done;
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
