import type { Timer } from '@azure/functions';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import type { Simulator } from '../../../dev/simulator/simulator';
import { decodeQueueMessage } from '../../../shared/storage';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import {
    SERVICEOWNER_SCOPES,
    clientRegistration,
    sharedClientCredentials,
    startTestSimulator,
    clientSettings,
} from '../../support/simulator';

/*
 * Azurite + the in-process Altinn simulator + the settings the functions read, for the
 * subscription and catch-up suites. The Maskinporten client is registered in the simulator with a
 * fresh RSA key and a self-signed certificate (node-forge), and the PEM is the MaskinportenKey.
 */

export interface Stack {
    azurite: AzuriteInstance;
    sim: Simulator;
    /** The app settings, as the function app (or the CLI) sees them. */
    env: Record<string, string>;
    blobs: BlobServiceClient;
    container(name: string): ContainerClient;
    stop(): Promise<void>;
}

export const scopes = [...SERVICEOWNER_SCOPES, 'altinn:events.subscribe'];

export async function startStack(extraEnv: Record<string, string> = {}): Promise<Stack> {
    const [azurite, sim] = await Promise.all([startAzurite(), startTestSimulator({ org: 'ttd' })]);
    const creds = sharedClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, scopes));
    const env: Record<string, string> = {
        AzureWebJobsStorage: azurite.connectionString,
        ...clientSettings(sim, creds, scopes),
        HttpRetryBudgetSeconds: '1',
        HttpTimeoutSeconds: '10',
        SubscriptionsSchedule: '0 0 0 1 1 *',
        CatchUpSchedule: '0 0 0 1 1 *',
        ReconcileSchedule: '0 0 0 1 1 *',
        ...extraEnv,
    };
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    return {
        azurite,
        sim,
        env,
        blobs,
        container: (name) => blobs.getContainerClient(name),
        stop: async () => {
            await sim.stop();
            await azurite.stop();
        },
    };
}

/** Puts the settings into process.env, where getServices() reads them. */
export function applyEnv(env: Record<string, string>): void {
    Object.assign(process.env, env);
}

/** The timer object the host passes (camel-cased), for calling timer handlers directly. */
export function timer(): Timer {
    const now = new Date().toISOString();
    return {
        isPastDue: false,
        schedule: { adjustForDST: true },
        scheduleStatus: { last: now, next: now, lastUpdated: now },
    };
}

export async function putBlob(container: ContainerClient, name: string, text: string): Promise<void> {
    await container.createIfNotExists();
    await container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
}

export async function getBlob(container: ContainerClient, name: string): Promise<string | undefined> {
    try {
        return (await container.getBlobClient(name).downloadToBuffer()).toString('utf8');
    } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return undefined;
        throw error;
    }
}

export async function blobNames(container: ContainerClient): Promise<string[]> {
    const names: string[] = [];
    if (!(await container.exists())) return names;
    for await (const item of container.listBlobsFlat()) names.push(item.name);
    return names;
}

/** Reads (and deletes) every message of a queue, decoded. */
export async function drainQueue(connectionString: string, name: string): Promise<string[]> {
    const queue = new QueueClient(connectionString, name);
    if (!(await queue.exists())) return [];
    const texts: string[] = [];
    for (;;) {
        const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
        if (receivedMessageItems.length === 0) return texts;
        for (const item of receivedMessageItems) {
            texts.push(decodeQueueMessage(item.messageText));
            await queue.deleteMessage(item.messageId, item.popReceipt);
        }
    }
}

/** Calls to an Altinn endpoint of the simulator, by status. */
export function calls(sim: Simulator, endpoint: string): Record<string, number> {
    return sim.counters().requests[endpoint] ?? {};
}
