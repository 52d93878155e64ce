import { QueueClient } from '@azure/storage-queue';
import type { ContainerClient } from '@azure/storage-blob';
import { createAltinnStack, type AltinnStack } from '../../../shared/altinn';
import { createBrokerClient, type BrokerClient } from '../../../shared/altinn/broker';
import { processBrokerMessage, type BrokerOutcome, type BrokerProcessorDeps } from '../../../shared/broker/processor';
import { loadConfig, type AppConfig } from '../../../shared/config';
import { containers, poisonQueueOf, queues } from '../../../shared/names';
import { createStorage, decodeQueueMessage, type Storage } from '../../../shared/storage';
import { type Simulator } from '../../../dev/simulator/simulator';
import { type CreateFileTransferInput, type SimulatorOptions } from '../../../dev/simulator/types';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { invocationContext, type CapturedLog } from '../../support/functions';
import {
    clientRegistration,
    createClientCredentials,
    startTestSimulator,
    clientSettings,
} from '../../support/simulator';

/*
 * Broker's integration harness: a private Azurite, the simulator in process (as organisation
 * ME), a Maskinporten client with a fresh RSA key and a node-forge self-signed certificate
 * registered there with the Broker scopes, and the settings the app reads (MaskinportenKey is the
 * PEM key plus certificate). `process` runs the BrokerProcessor logic on one message.
 */

export const RESOURCE = 'aos-broker-test';
export const OTHER_RESOURCE = 'someone-elses-resource';
export const ME = '405003309';
export const SENDER = '991825827';
export const BROKER_SCOPES = ['altinn:broker.read', 'altinn:events.subscribe'];

export interface BrokerRun {
    outcome?: BrokerOutcome;
    error?: unknown;
    logs: CapturedLog[];
}

export interface BrokerHarness {
    azurite: AzuriteInstance;
    sim: Simulator;
    /** The app's settings (process.env of the function app). */
    env: Record<string, string>;
    config: AppConfig;
    storage: Storage;
    altinn: AltinnStack;
    broker: BrokerClient;
    container: ContainerClient;
    brokerInbound: QueueClient;
    /** Runs the processor on a message; `download` tunes block size and retries. */
    process(message: unknown, download?: BrokerProcessorDeps['download']): Promise<BrokerRun>;
    /** As process, with these settings added to the app's. */
    processWith(
        settings: Record<string, string>,
        message: unknown,
        download?: BrokerProcessorDeps['download'],
    ): Promise<BrokerRun>;
    /** A published transfer to ME on RESOURCE (events stored, delivered to nobody unless subscribed). */
    createTransfer(input?: Partial<CreateFileTransferInput>): ReturnType<Simulator['control']['createFileTransfer']>;
    /** The `no.altinn.broker.published` event for ME (Role Recipient) the simulator published for a transfer. */
    recipientEvent(fileTransferId: string): Promise<Record<string, unknown>>;
    /** Decoded messages in a queue, without taking them. */
    peek(queue: string): Promise<string[]>;
    stop(): Promise<void>;
}

export async function startBrokerHarness(
    extraEnv: Record<string, string> = {},
    scopes: string[] = BROKER_SCOPES,
    simulator: SimulatorOptions = {},
): Promise<BrokerHarness> {
    const [azurite, sim] = await Promise.all([startAzurite(), startTestSimulator({ orgNumber: ME, ...simulator })]);
    const creds = createClientCredentials();
    await sim.control.registerClient(clientRegistration(creds, scopes));
    const env: Record<string, string> = {
        AzureWebJobsStorage: azurite.connectionString,
        ...clientSettings(sim, creds, scopes),
        HttpRetryBudgetSeconds: '2',
        HttpTimeoutSeconds: '10',
        BrokerResources: `${RESOURCE}, another-resource`,
        CatchUpSchedule: '0 0 0 1 1 *',
        ReconcileSchedule: '0 0 0 1 1 *',
        ...extraEnv,
    };
    const config = loadConfig(env);
    const altinn = createAltinnStack(config);
    const storage = createStorage(env);
    const broker = createBrokerClient(altinn.http, config);
    const container = storage.container(containers.broker);
    await container.createIfNotExists();
    const brokerInbound = new QueueClient(azurite.connectionString, queues.brokerInbound);
    await brokerInbound.createIfNotExists();

    async function run(
        runConfig: AppConfig,
        message: unknown,
        download: BrokerProcessorDeps['download'] = { retryDelayMs: () => 5 },
    ): Promise<BrokerRun> {
        const { context, logs } = invocationContext('BrokerProcessor');
        try {
            const outcome = await processBrokerMessage(
                message,
                { config: runConfig, storage, broker, tokens: altinn.tokens, download },
                context,
            );
            return { outcome, logs };
        } catch (error) {
            return { error, logs };
        }
    }

    return {
        azurite,
        sim,
        env,
        config,
        storage,
        altinn,
        broker,
        container,
        brokerInbound,
        process(message, download) {
            return run(config, message, download);
        },
        processWith(settings, message, download) {
            return run(loadConfig({ ...env, ...settings }), message, download);
        },
        createTransfer(input = {}) {
            return sim.control.createFileTransfer({
                resourceId: RESOURCE,
                fileName: 'rapport 2026.pdf',
                recipients: [ME],
                sender: SENDER,
                size: 100_000,
                ...input,
            });
        },
        async recipientEvent(fileTransferId) {
            const events = await sim.control.listEvents();
            const event = events.find(
                (e) =>
                    e.resourceinstance === fileTransferId &&
                    e.type === 'no.altinn.broker.published' &&
                    (e.data as { Role?: string } | undefined)?.Role === 'Recipient',
            );
            if (!event) throw new Error(`No recipient published event for ${fileTransferId}`);
            return event;
        },
        async peek(queue) {
            const client = new QueueClient(azurite.connectionString, queue);
            if (!(await client.exists())) return [];
            const { peekedMessageItems } = await client.peekMessages({ numberOfMessages: 32 });
            return peekedMessageItems.map((item) => decodeQueueMessage(item.messageText));
        },
        async stop() {
            await altinn.close();
            await Promise.all([sim.stop(), azurite.stop()]);
        },
    };
}

export const poisonQueue = poisonQueueOf(queues.brokerInbound);

/** The log lines' `step=` values, in order. */
export function steps(logs: CapturedLog[]): string[] {
    return logs.map((log) => /step=(\S+)/.exec(log.message)?.[1] ?? '');
}

export async function readBlob(container: ContainerClient, name: string): Promise<Buffer> {
    return container.getBlobClient(name).downloadToBuffer();
}

/**
 * One harness for a test file: started before its tests, stopped after them, with the simulator's
 * faults, state and counters reset before each test. Returns the harness's getter.
 */
export function useBrokerHarness(beforeEachTest?: (h: BrokerHarness) => Promise<void>): () => BrokerHarness {
    let harness: BrokerHarness | undefined;
    beforeAll(async () => {
        harness = await startBrokerHarness();
    }, 60_000);
    afterAll(() => harness?.stop());
    beforeEach(async () => {
        await harness!.sim.control.clearFaults();
        await harness!.sim.control.reset();
        await beforeEachTest?.(harness!);
    });
    return () => harness!;
}
