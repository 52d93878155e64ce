/**
 * The last error of a queue message that is about to go to its poison queue. The host moves the
 * message itself and keeps no reason, so the handler records it on the final attempt; the poison
 * tool shows it beside the message (keyed by queue and CloudEvent id). A message refused at once
 * (refusal.ts) is recorded the same way, and one without an event id by its poison message id.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { InvocationContext } from '@azure/functions';
import { ledgerOf, subjectOfMessage, type FailureFact } from './ledger';
import { errorMessage } from './log';
import { containers, queues } from './names';
import { redactPersonalData, withoutPersonalData } from './redact';
import type { Storage } from './storage';

export interface FailureRecord {
    queue: string;
    /** The CloudEvent id; absent for a message that is not a CloudEvent (messageId keys its record). */
    eventId?: string;
    /** The poison message's id, for a message without an event id. */
    messageId?: string;
    error: string;
    dequeueCount: number;
    failedAt: string;
    invocationId?: string;
    /** Put in poison at once because it can never succeed, rather than after every attempt failed. */
    refused?: boolean;
    /** When it first reached its poison queue (kept when PoisonKeeper adds it again without expiry). */
    poisonedAt?: string;
}

/** What a failure record is keyed by: the CloudEvent id, or else the poison message id. */
export type FailureKey = { eventId: string } | { messageId: string };

const defaultMaxDequeueCount = 5;

function findHostJson(from: string): string | undefined {
    for (let dir = from; ; dir = dirname(dir)) {
        const candidate = join(dir, 'host.json');
        if (existsSync(candidate)) return candidate;
        if (dirname(dir) === dir) return undefined;
    }
}

/** host.json's extensions.queues.maxDequeueCount, with the app-setting override the host honours. */
export function maxDequeueCount(env: Record<string, string | undefined> = process.env): number {
    const override = Object.entries(env).find(
        ([key]) => key.toLowerCase() === 'azurefunctionsjobhost__extensions__queues__maxdequeuecount',
    )?.[1];
    if (override && Number.isInteger(Number(override))) return Number(override);
    hostJsonMaxDequeueCount ??= readHostJsonMaxDequeueCount();
    return hostJsonMaxDequeueCount;
}

// host.json does not change while the worker runs: read it once.
let hostJsonMaxDequeueCount: number | undefined;

function readHostJsonMaxDequeueCount(): number {
    const file = findHostJson(__dirname);
    if (!file) return defaultMaxDequeueCount;
    const json = JSON.parse(readFileSync(file, 'utf8')) as { extensions?: { queues?: { maxDequeueCount?: number } } };
    return json.extensions?.queues?.maxDequeueCount ?? defaultMaxDequeueCount;
}

/** An event id is URI-encoded (no '/' left), so a record keyed by message id, one folder down, never collides. */
export function failureBlobName(queue: string, key: string | FailureKey): string {
    const by = typeof key === 'string' ? { eventId: key } : key;
    return 'eventId' in by
        ? `failures/${queue}/${encodeURIComponent(by.eventId)}.json`
        : `failures/${queue}/messages/${encodeURIComponent(by.messageId)}.json`;
}

function keyOf(record: FailureRecord): FailureKey {
    if (record.eventId !== undefined) return { eventId: record.eventId };
    if (record.messageId !== undefined) return { messageId: record.messageId };
    throw new Error('A failure record needs an eventId or a messageId');
}

export async function recordFailure(storage: Storage, record: FailureRecord): Promise<void> {
    const text = JSON.stringify(record, null, 2);
    const container = storage.container(containers.state);
    await container.createIfNotExists();
    await container
        .getBlockBlobClient(failureBlobName(record.queue, keyOf(record)))
        .upload(text, Buffer.byteLength(text), { blobHTTPHeaders: { blobContentType: 'application/json' } });
}

export async function readFailure(
    storage: Storage,
    queue: string,
    key: string | FailureKey,
): Promise<FailureRecord | undefined> {
    try {
        const buffer = await storage
            .container(containers.state)
            .getBlockBlobClient(failureBlobName(queue, key))
            .downloadToBuffer();
        return JSON.parse(buffer.toString('utf8')) as FailureRecord;
    } catch {
        return undefined;
    }
}

export async function forgetFailure(storage: Storage, queue: string, key: string | FailureKey): Promise<void> {
    await storage.container(containers.state).getBlockBlobClient(failureBlobName(queue, key)).deleteIfExists();
}

/** The stage each queue feeds, as the ledger's lastFailureStep names it. */
const failureSteps: Record<string, string> = {
    [queues.eventsInbound]: 'store',
    [queues.eventsFeedback]: 'feedback',
    [queues.eventsConfirmation]: 'confirm',
    [queues.eventsSubstatus]: 'substatus',
    [queues.brokerInbound]: 'broker',
    [queues.brokerSend]: 'send',
};

/** Every failed attempt is the entry's last failure; the final one also marks it poisoned. Never throws. */
async function recordInLedger(
    queue: string,
    message: unknown,
    getStorage: () => Storage,
    context: InvocationContext,
    final: boolean,
    error: string,
): Promise<void> {
    const subject = subjectOfMessage(message, queue === queues.brokerInbound ? 'brokerFile' : 'instance');
    if (!subject) return;
    const failure: FailureFact = { step: failureSteps[queue] ?? queue, error };
    let storage: Storage;
    try {
        storage = getStorage();
    } catch {
        return; // no storage settings: the failure itself says so, and there is no ledger to write to
    }
    const ledger = ledgerOf(storage).writer(context);
    await (final ? ledger.poisoned(subject, failure) : ledger.failed(subject, failure));
}

/** A CloudEvent's id, or a send request's blob (which names it: one request per blob). */
function eventIdOf(message: unknown): string {
    const { id, blob } = (message && typeof message === 'object' ? message : {}) as { id?: unknown; blob?: unknown };
    if (typeof id === 'string') return id;
    return typeof blob === 'string' ? blob : 'unparsable';
}

/**
 * Wraps a queue handler: when an attempt fails and it is the last one the host will make, the
 * error is recorded before the failure is handed back to the host (which then moves the message).
 * Both the record and the error the host prints are free of personal data.
 */
export function recordingFailures<T>(
    queue: string,
    getStorage: () => Storage,
    handler: (message: unknown, context: InvocationContext) => Promise<T>,
): (message: unknown, context: InvocationContext) => Promise<T> {
    return async (message, context) => {
        try {
            return await handler(message, context);
        } catch (error) {
            const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 0);
            const final = dequeueCount >= maxDequeueCount();
            await recordInLedger(queue, message, getStorage, context, final, errorMessage(error));
            if (final) {
                await recordFailure(getStorage(), {
                    queue,
                    eventId: eventIdOf(message),
                    error: redactPersonalData(errorMessage(error)),
                    dequeueCount,
                    failedAt: new Date().toISOString(),
                    invocationId: context.invocationId,
                }).catch((recordError: unknown) =>
                    context.warn(
                        `step=failure-not-recorded queue=${queue} error=${JSON.stringify(errorMessage(recordError))}`,
                    ),
                );
            }
            throw withoutPersonalData(error);
        }
    };
}
