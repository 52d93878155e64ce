import { createHash } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import type { SimulatorOptions } from '../../../dev/simulator/types';
import { followOpenTransfers } from '../../../shared/brokerSend/catchUp';
import { processSendRequest, type BrokerSenderDeps, type SendOutcome } from '../../../shared/brokerSend/sender';
import { ledgerOf, sentFileSubject, type LedgerEntry } from '../../../shared/ledger';
import { containers, queues } from '../../../shared/names';
import { invocationContext, type CapturedLog } from '../../support/functions';
import { BROKER_SCOPES, startBrokerHarness, type BrokerHarness, type BrokerRun } from '../broker/harness';

/*
 * Sending through Broker, in process: the Broker harness (a private Azurite, the simulator as
 * organisation ME with the sender's scope) plus the outbox, the sender on one request at a time,
 * the processor on the sender's events as Broker publishes them, and the sender-side catch-up.
 */

export const SEND_RESOURCE = 'aos-send-test';
export const RECIPIENT_A = '910753614';
export const RECIPIENT_B = '991825827';
export const SEND_SCOPES = [...BROKER_SCOPES, 'altinn:broker.write'];

export interface SendRun {
    outcome?: SendOutcome;
    error?: unknown;
    logs: CapturedLog[];
}

export interface SendHarness {
    h: BrokerHarness;
    outbox: ContainerClient;
    /** Puts a file in broker-outbound; resolves with its MD5 (lowercase hex). */
    put(name: string, data: Buffer | string): Promise<string>;
    /** Runs BrokerSender's logic on one request. */
    send(request: unknown, deps?: Partial<BrokerSenderDeps>): Promise<SendRun>;
    /** Runs BrokerProcessor on every event Broker published to us as sender about the transfer, not yet run. */
    deliverSenderEvents(fileTransferId: string): Promise<BrokerRun[]>;
    /** The sender-side catch-up. */
    catchUp(): Promise<CapturedLog[]>;
    entry(fileTransferId: string): Promise<LedgerEntry | undefined>;
    /** Decoded messages on broker-sent. */
    handedBack(): Promise<Record<string, unknown>[]>;
    /** Transfers the simulator holds on SEND_RESOURCE. */
    transfers(): Promise<Record<string, unknown>[]>;
    stop(): Promise<void>;
}

export async function startSendHarness(simulator: SimulatorOptions = {}): Promise<SendHarness> {
    const h = await startBrokerHarness({}, SEND_SCOPES, { brokerResources: [SEND_RESOURCE], ...simulator });
    const outbox = h.storage.container(containers.brokerOutbound);
    await outbox.createIfNotExists();
    const delivered = new Set<string>();
    return {
        h,
        outbox,
        async put(name, data) {
            const bytes = Buffer.from(data);
            await outbox.getBlockBlobClient(name).upload(bytes, bytes.length);
            return createHash('md5').update(bytes).digest('hex');
        },
        async send(request, deps = {}) {
            const { context, logs } = invocationContext('BrokerSender');
            try {
                const outcome = await processSendRequest(
                    request,
                    { config: h.config, storage: h.storage, broker: h.broker, tokens: h.altinn.tokens, ...deps },
                    context,
                );
                return { outcome, logs };
            } catch (error) {
                return { error, logs };
            }
        },
        async deliverSenderEvents(fileTransferId) {
            const events = (await h.sim.control.listEvents()).filter(
                (event) =>
                    event.resourceinstance === fileTransferId &&
                    (event.data as { Role?: string } | undefined)?.Role === 'Sender' &&
                    !delivered.has(event.id),
            );
            const runs: BrokerRun[] = [];
            for (const event of events) {
                delivered.add(event.id);
                runs.push(await h.process(event));
            }
            return runs;
        },
        async catchUp() {
            const { context, logs } = invocationContext('BrokerCatchUp');
            await followOpenTransfers({ storage: h.storage, broker: h.broker }, context);
            return logs;
        },
        entry: (fileTransferId) => ledgerOf(h.storage).get(sentFileSubject(SEND_RESOURCE, fileTransferId)),
        async handedBack() {
            return (await h.peek(queues.brokerSent)).map((text) => JSON.parse(text) as Record<string, unknown>);
        },
        async transfers() {
            return (await h.sim.control.listFileTransfers()).filter((t) => t.resourceId === SEND_RESOURCE);
        },
        stop: () => h.stop(),
    };
}

/** One harness for a test file, with the simulator's faults and state reset before each test. */
export function useSendHarness(): () => SendHarness {
    let harness: SendHarness | undefined;
    beforeAll(async () => {
        harness = await startSendHarness();
    }, 60_000);
    afterAll(() => harness?.stop());
    beforeEach(async () => {
        await harness!.h.sim.control.clearFaults();
        await harness!.h.sim.control.reset();
        await harness!.h.sim.control.holdBrokerScans(false);
    });
    return () => harness!;
}

/** A send request for `blob` to both recipients. */
export function request(blob: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        blob,
        resourceId: SEND_RESOURCE,
        recipients: [RECIPIENT_A, `0192:${RECIPIENT_B}`],
        sendersFileTransferReference: `sak/${blob}`,
        propertyList: { saksnummer: '2026/42' },
        ...extra,
    };
}
