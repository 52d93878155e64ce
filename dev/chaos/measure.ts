/**
 * What a scenario did, from the outside: the simulator's view (events published, complete calls,
 * bytes served per data element), the poison queues and the blobs in Azurite.
 */
import { RestError } from '@azure/storage-blob';
import { dataBlobName, instanceBlobName } from '../../shared/instances/layout';
import { poisonQueueOf, queues } from '../../shared/names';
import { decodeQueueMessage, type Storage } from '../../shared/storage';
import type { Created, Run } from './scenarios';
import { completedType } from './stack';

export const instanceQueues = [queues.eventsInbound, queues.eventsFeedback, queues.eventsConfirmation];

/** Poison messages seen so far, by message id (kept across looks: a message received once stays counted). */
export type PoisonSeen = Map<string, { queue: string; instanceId?: string }>;

function instanceIdOf(text: string): string | undefined {
    try {
        const event = JSON.parse(text) as { source?: unknown };
        const match =
            typeof event.source === 'string' ? /\/instances\/(\d+)\/([0-9a-fA-F-]{36})$/.exec(event.source) : null;
        return match ? `${match[1]}/${match[2].toLowerCase()}` : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Looks into every instance poison queue. Up to 32 messages are peeked (left as they are, so that
 * `npm run aos -- poison list` shows them too); beyond that they are received and hidden for an hour.
 */
export async function lookAtPoison(storage: Storage, seen: PoisonSeen): Promise<void> {
    for (const queue of instanceQueues) {
        const client = storage.queue(poisonQueueOf(queue));
        if (!(await client.exists())) continue;
        const { approximateMessagesCount = 0 } = await client.getProperties();
        const items =
            approximateMessagesCount <= 32
                ? (await client.peekMessages({ numberOfMessages: 32 })).peekedMessageItems
                : (await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 3600 }))
                      .receivedMessageItems;
        for (const item of items) {
            seen.set(item.messageId, { queue, instanceId: instanceIdOf(decodeQueueMessage(item.messageText)) });
        }
    }
}

/** Messages waiting or in flight in the instance queues (approximate, counts invisible ones). */
export async function queuedMessages(storage: Storage): Promise<number> {
    let total = 0;
    for (const queue of instanceQueues) {
        const client = storage.queue(queue);
        if (!(await client.exists())) continue;
        total += (await client.getProperties()).approximateMessagesCount ?? 0;
    }
    return total;
}

export function confirmedIds(run: Run): Set<string> {
    const { completes } = run.stack.sim.counters();
    return new Set(Object.keys(completes).filter((id) => completes[id] > 0));
}

export function poisonedIds(seen: PoisonSeen): Set<string> {
    return new Set([...seen.values()].map((p) => p.instanceId).filter((id): id is string => id !== undefined));
}

export interface Measurement {
    /** Events of the submitted instances that Altinn published. */
    sent: number;
    /** Instances whose instance.json (written last) is in the store. */
    stored: number;
    confirmed: number;
    /** Instances with a message in a poison queue. */
    poison: number;
    /** Published, and neither confirmed nor in a poison queue. */
    lost: string[];
    /** Data element downloads beyond one per element (whole copies served, from the simulator's byte counts). */
    duplicateDownloads: number;
    /** Bytes served beyond one copy per element, cut-off bodies included. */
    extraBytes: number;
    /** Confirmed instances with instance.json or a data blob missing or of the wrong size. */
    confirmedWithoutData: string[];
    /** Instances meant to end in poison that did not, or were confirmed. */
    badNotPoisoned: string[];
}

async function blobLength(run: Run, name: string): Promise<number | undefined> {
    try {
        return (await run.stack.inbound().getBlobClient(name).getProperties()).contentLength ?? 0;
    } catch (error) {
        if (error instanceof RestError && error.statusCode === 404) return undefined;
        throw error;
    }
}

/** What is missing for a confirmed instance ('' when it is complete). */
async function missingData(run: Run, instance: Created): Promise<string> {
    const ref = { org: 'ttd', app: run.app, instanceGuid: instance.instanceGuid };
    const problems: string[] = [];
    if ((await blobLength(run, instanceBlobName(ref))) === undefined) problems.push('instance.json missing');
    for (const element of instance.elements) {
        const length = await blobLength(run, dataBlobName(ref, element.id));
        if (length === undefined) problems.push(`${element.id} missing`);
        else if (length !== element.size) problems.push(`${element.id} has ${length} of ${element.size} bytes`);
    }
    return problems.join(', ');
}

export async function measure(run: Run, seen: PoisonSeen): Promise<Measurement> {
    const { sim } = run.stack;
    const source = `${sim.appsUrl}/ttd/${run.app}/instances/`;
    const published = new Set(
        (await sim.control.listEvents())
            .filter((event) => event.type === completedType && event.source.startsWith(source))
            .map((event) => event.source.slice(source.length).toLowerCase()),
    );
    await lookAtPoison(run.stack.storage, seen);
    const confirmed = confirmedIds(run);
    const poisoned = poisonedIds(seen);
    const { contentBytes } = sim.counters();

    let stored = 0;
    let duplicateDownloads = 0;
    let extraBytes = 0;
    const lost: string[] = [];
    const confirmedWithoutData: string[] = [];
    const badNotPoisoned: string[] = [];
    for (const instance of run.created) {
        const ref = { org: 'ttd', app: run.app, instanceGuid: instance.instanceGuid };
        if ((await blobLength(run, instanceBlobName(ref))) !== undefined) stored++;
        if (published.has(instance.id) && !confirmed.has(instance.id) && !poisoned.has(instance.id)) {
            lost.push(instance.id);
        }
        if (confirmed.has(instance.id)) {
            const missing = await missingData(run, instance);
            if (missing) confirmedWithoutData.push(`${instance.id}: ${missing}`);
        }
        if (instance.bad && (confirmed.has(instance.id) || !poisoned.has(instance.id))) {
            badNotPoisoned.push(`${instance.id} (${instance.bad})`);
        }
        for (const element of instance.elements) {
            const served = contentBytes[element.id] ?? 0;
            extraBytes += Math.max(0, served - element.size);
            if (element.size > 0) duplicateDownloads += Math.max(0, Math.floor(served / element.size) - 1);
        }
    }
    return {
        sent: published.size,
        stored,
        confirmed: run.created.filter((instance) => confirmed.has(instance.id)).length,
        poison: run.created.filter((instance) => poisoned.has(instance.id)).length,
        lost,
        duplicateDownloads,
        extraBytes,
        confirmedWithoutData,
        badNotPoisoned,
    };
}
