import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { type ContainerClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import type { InvocationContext } from '@azure/functions';
import { createAltinnStack, type AltinnStack } from '../../../shared/altinn';
import { loadConfig } from '../../../shared/config';
import { containers, queues } from '../../../shared/names';
import type { Services } from '../../../shared/services';
import { createStorage, decodeQueueMessage, encodeQueueMessage } from '../../../shared/storage';
import { type Simulator } from '../../../dev/simulator/simulator';
import { type CloudEvent } from '../../../dev/simulator/types';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { invocationContext, type CapturedLog } from '../../support/functions';
import {
    clientRegistration,
    createClientCredentials,
    startTestSimulator,
    SERVICEOWNER_SCOPES,
    type ClientCredentials,
    clientSettings,
} from '../../support/simulator';

/*
 * The instance pipeline's integration harness: a private Azurite, the real simulator in process,
 * a Maskinporten client with a fresh RSA key and self-signed certificate registered there (so
 * grants are really signed and verified), and Services built from settings exactly as the app
 * reads them. Handlers are called with messages taken from the Azurite queues and turned into
 * what @azure/functions hands a queue trigger (JSON-parsed, the payload's keys over triggerMetadata).
 */

export type Handler = (queueItem: unknown, context: InvocationContext) => Promise<void>;

export interface Run {
    logs: CapturedLog[];
    /** What the handler threw; undefined when it completed. */
    error?: unknown;
    /** The message text as queued (decoded). */
    text: string;
}

export interface Harness {
    azurite: AzuriteInstance;
    sim: Simulator;
    creds: ClientCredentials;
    /** Settings as the app reads them. */
    env: Record<string, string>;
    services: Services;
    /** Services with other settings (closed by stop()). */
    servicesWith(overrides: Record<string, string | undefined>): Services;
    container: ContainerClient;
    queue(name: string): QueueClient;
    /** Queues the event's JSON to events-inbound the way the receiver does. */
    enqueue(event: unknown, queue?: string): Promise<void>;
    /** Takes the next message of `queue` and runs `handler` on it (the message is deleted either way). */
    deliver(queue: string, handler: Handler, dequeueCount?: number): Promise<Run>;
    /** Decoded texts of the messages in `queue`, without taking them. */
    peek(queue: string): Promise<string[]>;
    clearQueues(): Promise<void>;
    stop(): Promise<void>;
}

export const allQueues = [queues.eventsInbound, queues.eventsFeedback, queues.eventsConfirmation];

export async function startHarness(extraEnv: Record<string, string> = {}): Promise<Harness> {
    const [azurite, sim] = await Promise.all([startAzurite(), startTestSimulator()]);
    const creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, SERVICEOWNER_SCOPES));
    const env: Record<string, string> = {
        AzureWebJobsStorage: azurite.connectionString,
        ...clientSettings(sim, creds, SERVICEOWNER_SCOPES),
        HttpRetryBudgetSeconds: '3',
        HttpTimeoutSeconds: '10',
        DownloadConcurrency: '4',
        ...extraEnv,
    };
    const stacks: AltinnStack[] = [];
    const build = (settings: Record<string, string | undefined>): Services => {
        const config = loadConfig(settings);
        const altinn = createAltinnStack(config);
        stacks.push(altinn);
        return { config, storage: createStorage(settings), altinn };
    };
    const services = build(env);
    const container = services.storage.container(containers.inbound);
    const queueClients = new Map<string, QueueClient>();
    const queue = (name: string): QueueClient => {
        let client = queueClients.get(name);
        if (!client) {
            client = new QueueClient(azurite.connectionString, name);
            queueClients.set(name, client);
        }
        return client;
    };
    await Promise.all([...allQueues, `${queues.eventsInbound}-poison`].map((name) => queue(name).createIfNotExists()));

    return {
        azurite,
        sim,
        creds,
        env,
        services,
        servicesWith: (overrides) => build({ ...env, ...overrides }),
        container,
        queue,
        async enqueue(event, name = queues.eventsInbound) {
            const text = typeof event === 'string' ? event : JSON.stringify(event);
            await queue(name).sendMessage(encodeQueueMessage(text));
        },
        async deliver(name, handler, dequeueCount) {
            const { receivedMessageItems } = await queue(name).receiveMessages({ numberOfMessages: 1 });
            if (receivedMessageItems.length === 0) throw new Error(`No message in ${name}`);
            const message = receivedMessageItems[0];
            await queue(name).deleteMessage(message.messageId, message.popReceipt);
            const text = decodeQueueMessage(message.messageText);
            const item = tryJsonParse(text);
            // As the host and @azure/functions do it: the payload's top-level keys overwrite the metadata (#459).
            const triggerMetadata: Record<string, unknown> = {
                queueTrigger: item,
                dequeueCount: dequeueCount ?? message.dequeueCount,
                id: message.messageId,
                insertionTime: message.insertedOn.toISOString(),
                popReceipt: message.popReceipt,
                ...(item && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : {}),
            };
            const { context, logs } = invocationContext(name, triggerMetadata);
            try {
                await handler(item, context);
                return { logs, text };
            } catch (error) {
                return { logs, text, error };
            }
        },
        async peek(name) {
            const { peekedMessageItems } = await queue(name).peekMessages({ numberOfMessages: 32 });
            return peekedMessageItems.map((item) => decodeQueueMessage(item.messageText));
        },
        async clearQueues() {
            await Promise.all(
                [...allQueues, `${queues.eventsInbound}-poison`].map((name) => queue(name).clearMessages()),
            );
        },
        async stop() {
            await Promise.all(stacks.map((stack) => stack.close()));
            await Promise.all([sim.stop(), azurite.stop()]);
        },
    };
}

function tryJsonParse(text: string): unknown {
    try {
        return JSON.parse(text) as unknown;
    } catch {
        return text;
    }
}

/** The published event of a created instance, as Altinn would push it. */
export function eventOf(created: { events: CloudEvent[] }, type?: string): CloudEvent {
    const event = type ? created.events.find((e) => e.type === type) : created.events[0];
    if (!event) throw new Error(`The instance has no ${type ?? ''} event`);
    return event;
}

/** An event for an instance that was never published (any source, any type). */
export function eventFor(source: string, type = 'app.instance.process.completed', id?: string): CloudEvent {
    return {
        specversion: '1.0',
        id: id ?? `evt-${Math.random().toString(16).slice(2)}`,
        time: new Date().toISOString(),
        source,
        type,
        subject: '/party/50001001',
    };
}

export async function blobSha256(container: ContainerClient, name: string): Promise<string> {
    const response = await container.getBlobClient(name).download();
    const hash = createHash('sha256');
    for await (const chunk of response.readableStreamBody!) hash.update(chunk as Buffer);
    return hash.digest('hex');
}

export async function blobText(container: ContainerClient, name: string): Promise<string> {
    return (await container.getBlobClient(name).downloadToBuffer()).toString('utf8');
}

export async function blobNames(container: ContainerClient, prefix = ''): Promise<string[]> {
    const names: string[] = [];
    if (!(await container.exists())) return names;
    for await (const blob of container.listBlobsFlat({ prefix })) names.push(blob.name);
    return names.sort();
}

export function steps(logs: CapturedLog[], step?: string): CapturedLog[] {
    return logs.filter((log) =>
        step ? log.message.startsWith(`step=${step} `) || log.message === `step=${step}` : true,
    );
}

/** The logfmt fields of a line (values unquoted). */
export function fieldsOf(line: string): Record<string, string> {
    const fields: Record<string, string> = {};
    for (const match of line.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
        fields[match[1]] = match[2].startsWith('"') ? (JSON.parse(match[2]) as string) : match[2];
    }
    return fields;
}

/** A TCP server standing in for a foreign origin: it counts connections and answers nothing useful. */
export interface ForeignOrigin {
    url: string;
    connections: number;
    stop(): Promise<void>;
}

export async function startForeignOrigin(): Promise<ForeignOrigin> {
    const sockets = new Set<Socket>();
    const foreign: ForeignOrigin = { url: '', connections: 0, stop: () => Promise.resolve() };
    const server: Server = createServer((socket) => {
        foreign.connections++;
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    foreign.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    foreign.stop = () =>
        new Promise<void>((resolve) => {
            sockets.forEach((socket) => socket.destroy());
            server.close(() => resolve());
        });
    return foreign;
}
