/**
 * Back to the case systems: when a file this system sent reaches a final state (every recipient
 * confirmed, failed, expired or deleted in Broker), one JSON message on queue broker-sent says so
 * (docs/broker-sent.schema.json). Delivery is at least once: a repeat carries the same
 * fileTransferId, state and `at`, so a consumer recognises it.
 */
import { logStep, type LogFields, type StepLogger } from '../log';
import { containers, queues } from '../names';
import type { SendState, SentRecipient } from '../ledger';
import type { Storage } from '../storage';

export type FinalSendState = Extract<SendState, 'confirmed' | 'failed' | 'expired' | 'deleted'>;

export interface BrokerSentMessage {
    kind: 'brokerSent';
    fileTransferId: string;
    resourceId: string;
    /** Where the file the request named is: container broker-outbound, this blob. */
    container: string;
    blob: string;
    fileName: string | null;
    sendersFileTransferReference: string | null;
    state: FinalSendState;
    /** Why it failed, in Broker's words (its DetailedStatus, e.g. "Checksum mismatch"), or this system's; null otherwise. */
    reason: string | null;
    /** Broker's fileTransferStatus at the time, or null when Broker never took the file (refused before upload). */
    brokerStatus: string | null;
    recipients: { recipient: string; status: string; changed: string | null }[];
    confirmedRecipients: number;
    /** Transfers of the same request whose upload broke before this one. */
    previousFileTransferIds: string[];
    /** When this system recorded the final state (ISO time); the same on a repeat. */
    at: string;
}

export interface HandBackInput {
    fileTransferId: string;
    resourceId: string;
    blob: string;
    fileName?: string;
    sendersReference?: string;
    state: FinalSendState;
    reason?: string;
    brokerStatus?: string;
    recipients: SentRecipient[];
    confirmedRecipients: number;
    previous: string[];
    at: Date;
}

export function brokerSentMessage(input: HandBackInput): BrokerSentMessage {
    return {
        kind: 'brokerSent',
        fileTransferId: input.fileTransferId,
        resourceId: input.resourceId,
        container: containers.brokerOutbound,
        blob: input.blob,
        fileName: input.fileName ?? null,
        sendersFileTransferReference: input.sendersReference ?? null,
        state: input.state,
        reason: input.reason ?? null,
        brokerStatus: input.brokerStatus ?? null,
        recipients: input.recipients.map((r) => ({
            recipient: r.recipient,
            status: r.status,
            changed: r.changed ?? null,
        })),
        confirmedRecipients: input.confirmedRecipients,
        previousFileTransferIds: input.previous,
        at: input.at.toISOString(),
    };
}

export async function handBack(
    storage: Storage,
    message: BrokerSentMessage,
    logger: StepLogger,
    fields: LogFields,
): Promise<void> {
    await storage.enqueueCreating(queues.brokerSent, JSON.stringify(message));
    logStep(logger, 'handed-back', { ...fields, queue: queues.brokerSent, state: message.state });
}
