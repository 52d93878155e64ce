/**
 * Following a sent file to every recipient's confirmed download. Whatever brings news of a transfer
 * (the sender's own upload, one of Broker's events to us as sender, the sender-side catch-up) reads
 * Broker's overview and hands it here; the overview, not the event, says where the transfer is, so
 * events that come late, twice or not at all change nothing. Here the state is recorded in the
 * ledger, logged, and on a final state handed back to the case systems, once:
 *
 * 1. the state and, on a final state, its time are merged into the entry (final still false), on
 *    condition that no one changed the entry since it was read;
 * 2. the broker-sent message is queued (with that time, so a repeat is the same message);
 * 3. the entry is marked final and handed back. A failure before 3 leaves the entry open, and the
 *    next news of the transfer (or the catch-up, which follows open entries) hands it back again,
 *    once the writer of 1 has had handBackLeaseMs to do it.
 *
 * A transfer whose upload broke (shared/brokerSend/state.ts isRetryableFailure) while BrokerSender
 * still holds its request (`sending`) is not final: BrokerSender sends the file again on a new
 * transfer, as Broker requires, and marks this one `retried`.
 */
import type { BrokerClient, FileTransferOverview } from '../altinn/broker';
import { AltinnHttpError } from '../altinn/errors';
import {
    finalSendStates,
    ledgerOf,
    sentFileSubject,
    sentProgress,
    sentProperties,
    type LedgerEntry,
    type SendState,
} from '../ledger';
import { errorStep, logStep, warnStep, type LogFields, type StepLogger } from '../log';
import type { Storage } from '../storage';
import { brokerSentMessage, handBack, type FinalSendState } from './handBack';
import { isRetryableFailure, transferState, type TransferState } from './state';

export interface FollowDeps {
    storage: Storage;
    broker: BrokerClient;
    now?: () => Date;
}

/** A ledger entry of a sent file (kind sentFile), as the ledger returns it. */
export type SentEntry = LedgerEntry & { sent: NonNullable<LedgerEntry['sent']> };

export function isSentEntry(entry: LedgerEntry | undefined): entry is SentEntry {
    return entry?.kind === 'sentFile' && entry.sent !== undefined;
}

function fieldsOf(entry: SentEntry, extra: LogFields = {}): LogFields {
    return { ...extra, resourceId: entry.resourceId, fileTransferId: entry.id, blob: entry.sent.blob };
}

/**
 * How long the writer that recorded a final state has to hand it back before another one (the
 * next event, the catch-up) does it instead.
 */
export const handBackLeaseMs = 5 * 60 * 1000;

/** Rounds of read-and-write before giving up on an entry others keep changing (the queue retries). */
const settleRounds = 5;

/**
 * Records `next` for the entry's transfer and, when it is final, hands it back (see the module
 * comment). Every write is conditional on the entry as just read, so that two invocations settling
 * the same transfer at once (two events, two hosts) never move it backwards, and only the one that
 * recorded the final state hands it back; the other leaves that to it.
 */
export async function settle(
    deps: FollowDeps,
    logger: StepLogger,
    entry: SentEntry,
    next: TransferState,
    extra: LogFields = {},
): Promise<SendState> {
    const ledger = ledgerOf(deps.storage);
    const subject = sentFileSubject(entry.resourceId ?? '', entry.id);
    for (let round = 0; round < settleRounds; round++) {
        const now = deps.now?.() ?? new Date();
        const read = await ledger.getForUpdate(subject);
        if (!read || !isSentEntry(read.entry)) return next.state;
        const current = read.entry;
        const { sent } = current;
        if (sent.final) return sent.state;
        const fields = fieldsOf(current, extra);
        if (sent.finalAt && finalSendStates.includes(sent.state)) {
            // Another writer recorded the final state: it hands it back, unless it has had its time and failed.
            if (now.getTime() - sent.finalAt.getTime() < handBackLeaseMs) return sent.state;
            await finish(deps, logger, current, sent, sent.finalAt, fields);
            return sent.state;
        }
        const broke = next.state === 'failed' && sent.sending && isRetryableFailure(next.brokerStatusText);
        const final = finalSendStates.includes(next.state) && !broke;
        const uploaded = !['initialized', 'uploading', 'failed'].includes(next.state);
        const finalAt = final ? now : undefined;
        const facts = {
            state: next.state,
            brokerStatus: next.brokerStatus,
            brokerStatusText: next.brokerStatusText,
            recipients: next.recipients,
            confirmedRecipients: next.confirmedRecipients,
            ...(uploaded && !sent.uploadedAt ? { uploadedAt: now } : {}),
            ...(uploaded || final ? { sending: false } : {}),
            ...(finalAt ? { finalAt } : {}),
        };
        const confirmed = next.state === 'confirmed' ? { confirmed: true, confirmedAt: now } : {};
        if (!(await ledger.mergeIfUnchanged(subject, { ...sentProperties(facts), ...confirmed }, read.etag))) continue;
        const settled = { ...sent, ...facts };
        if (next.state !== sent.state || next.confirmedRecipients !== sent.confirmedRecipients) {
            logStep(logger, 'broker-sent-state', { ...fields, state: next.state, progress: sentProgress(settled) });
        }
        if (broke) {
            warnStep(logger, 'broker-upload-broke', {
                ...fields,
                reason: next.brokerStatusText,
                detail: 'BrokerSender sends the file again on a new transfer',
            });
            return next.state;
        }
        if (next.state === 'failed') {
            errorStep(logger, 'broker-upload-failed', {
                ...extra,
                blob: sent.blob,
                resourceId: current.resourceId,
                fileTransferId: current.id,
                reason: next.brokerStatusText ?? next.brokerStatus,
            });
        }
        if (finalAt) await finish(deps, logger, current, settled, finalAt, fields);
        return next.state;
    }
    throw new Error(`The ledger entry of sent file ${entry.id} kept changing; the next attempt settles it`);
}

/** Hands a final state back to the case systems (the same message on a repeat) and marks the entry final. */
async function finish(
    deps: FollowDeps,
    logger: StepLogger,
    entry: SentEntry,
    sent: SentEntry['sent'],
    at: Date,
    fields: LogFields,
): Promise<void> {
    const subject = sentFileSubject(entry.resourceId ?? '', entry.id);
    if (sent.state !== 'retried') {
        const message = brokerSentMessage({
            fileTransferId: entry.id,
            resourceId: entry.resourceId ?? '',
            blob: sent.blob,
            fileName: sent.fileName,
            sendersReference: sent.sendersReference,
            state: sent.state as FinalSendState,
            reason: sent.state === 'failed' ? sent.brokerStatusText : undefined,
            brokerStatus: sent.brokerStatus,
            recipients: sent.recipients,
            confirmedRecipients: sent.confirmedRecipients,
            previous: sent.previous,
            at,
        });
        await handBack(deps.storage, message, logger, fields);
    }
    await ledgerOf(deps.storage).merge(
        subject,
        sentProperties({
            final: true,
            ...(sent.state !== 'retried' ? { handedBackAt: deps.now?.() ?? new Date() } : {}),
        }),
    );
}

/** Settles the entry on Broker's overview of its transfer. */
export function applyOverview(
    deps: FollowDeps,
    logger: StepLogger,
    entry: SentEntry,
    overview: FileTransferOverview,
    extra: LogFields = {},
): Promise<SendState> {
    return settle(deps, logger, entry, transferState(overview, deps.now?.()), extra);
}

/** Reads Broker's overview of the entry's transfer and settles on it. */
export async function followTransfer(
    deps: FollowDeps,
    logger: StepLogger,
    entry: SentEntry,
    extra: LogFields = {},
): Promise<SendState> {
    const { overview } = await deps.broker.overview(entry.id, { logger });
    return applyOverview(deps, logger, entry, overview, extra);
}

export type SentEventOutcome =
    { outcome: 'ignored'; reason: 'not-sent-by-us' } | { outcome: 'sent'; fileTransferId: string; state: SendState };

/**
 * One of Broker's events to us as sender (shared/broker/event.ts, kind 'sent'). Whether we sent the
 * transfer is the ledger's answer: BrokerSender records every transfer before it uploads to it.
 */
export async function followSentEvent(
    deps: FollowDeps,
    logger: StepLogger,
    event: { eventId: string; eventType: string; resourceId: string; fileTransferId: string },
): Promise<SentEventOutcome> {
    const { eventId, eventType, resourceId, fileTransferId } = event;
    const entry = await ledgerOf(deps.storage).get(sentFileSubject(resourceId, fileTransferId));
    if (!isSentEntry(entry)) {
        logStep(logger, 'ignored', {
            eventId,
            type: eventType,
            resourceId,
            fileTransferId,
            reason: 'not-sent-by-us',
            detail: 'the ledger has no transfer by that id that this system sent',
        });
        return { outcome: 'ignored', reason: 'not-sent-by-us' };
    }
    if (entry.sent.final) {
        logStep(logger, 'broker-sent-event', { ...fieldsOf(entry), eventId, type: eventType, state: entry.sent.state });
        return { outcome: 'sent', fileTransferId, state: entry.sent.state };
    }
    try {
        const state = await followTransfer(deps, logger, entry, { eventId, type: eventType });
        return { outcome: 'sent', fileTransferId, state };
    } catch (error) {
        if (error instanceof AltinnHttpError && error.status === 404) {
            warnStep(logger, 'broker-sent-missing', { ...fieldsOf(entry), eventId, detail: error.message });
            return { outcome: 'sent', fileTransferId, state: entry.sent.state };
        }
        throw error;
    }
}
