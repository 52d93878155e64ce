/**
 * What the ledger keeps of a file this system sent through Broker (entries of kind `sentFile`, one
 * per file transfer), as table properties and back. Written by shared/brokerSend (the sender and
 * everything that follows the transfer afterwards), read by the status page and `aos ledger show`.
 */

/**
 * Where a sent file is: Broker's status as this system names it (shared/brokerSend/state.ts maps
 * one to the other). Final: confirmed, failed, expired, deleted, and retried (an upload that broke,
 * whose request went on with a new transfer, as Broker requires).
 */
export type SendState =
    | 'initialized'
    | 'uploading'
    | 'processing'
    | 'published'
    | 'confirmed'
    | 'failed'
    | 'expired'
    | 'deleted'
    | 'retried';

export const finalSendStates: readonly SendState[] = ['confirmed', 'failed', 'expired', 'deleted', 'retried'];

export interface SentRecipient {
    /** As Broker names it: "0192:{orgnr}". */
    recipient: string;
    /** RecipientFileTransferStatusExt: Initialized, DownloadStarted, DownloadConfirmed. */
    status: string;
    changed?: string;
}

export interface SentFacts {
    state: SendState;
    /** The outbox blob (container broker-outbound) the send request named. */
    blob: string;
    fileName?: string;
    sendersReference?: string;
    /** Broker's fileTransferStatus and its text (a failure's reason: "Checksum mismatch", …). */
    brokerStatus?: string;
    brokerStatusText?: string;
    recipients: SentRecipient[];
    /** How many of `recipients` confirmed their download. */
    confirmedRecipients: number;
    /** Final (see finalSendStates): nothing more will change, and the case system has been told. */
    final: boolean;
    /** BrokerSender still owns the transfer: its upload is not yet accepted (see shared/brokerSend/follow.ts). */
    sending: boolean;
    initializedAt?: Date;
    uploadedAt?: Date;
    publishedAt?: Date;
    finalAt?: Date;
    handedBackAt?: Date;
    /** The transfer that took over after this one's upload broke. */
    retriedAs?: string;
    /** Earlier transfers of the same request whose uploads broke. */
    previous: string[];
}

/** Table property names; `confirmed` and `confirmedAt` are the ledger's own (every recipient confirmed). */
export function sentProperties(facts: Partial<SentFacts>): Record<string, unknown> {
    const properties: Record<string, unknown> = {};
    const set = (name: string, value: unknown) => {
        if (value !== undefined) properties[name] = value;
    };
    set('sendState', facts.state);
    set('blob', facts.blob);
    set('fileName', facts.fileName);
    set('sendersReference', facts.sendersReference);
    set('brokerStatus', facts.brokerStatus);
    set('brokerStatusText', facts.brokerStatusText);
    if (facts.recipients) {
        set('recipients', JSON.stringify(facts.recipients));
        set('recipientCount', facts.recipients.length);
    }
    set('confirmedRecipients', facts.confirmedRecipients);
    set('final', facts.final);
    set('sending', facts.sending);
    set('initializedAt', facts.initializedAt);
    set('uploadedAt', facts.uploadedAt);
    set('publishedAt', facts.publishedAt);
    set('finalAt', facts.finalAt);
    set('handedBackAt', facts.handedBackAt);
    set('retriedAs', facts.retriedAs);
    if (facts.previous) set('previous', facts.previous.join(','));
    return properties;
}

function recipientsOf(value: unknown): SentRecipient[] {
    if (typeof value !== 'string') return [];
    try {
        const parsed = JSON.parse(value) as unknown;
        return Array.isArray(parsed) ? (parsed as SentRecipient[]) : [];
    } catch {
        return [];
    }
}

export function sentFactsOf(row: Record<string, unknown>): SentFacts {
    const text = (name: string) => (typeof row[name] === 'string' ? row[name] : undefined);
    const date = (name: string) => (row[name] instanceof Date ? row[name] : undefined);
    return {
        state: (text('sendState') ?? 'initialized') as SendState,
        blob: text('blob') ?? '',
        fileName: text('fileName'),
        sendersReference: text('sendersReference'),
        brokerStatus: text('brokerStatus'),
        brokerStatusText: text('brokerStatusText'),
        recipients: recipientsOf(row.recipients),
        confirmedRecipients: typeof row.confirmedRecipients === 'number' ? row.confirmedRecipients : 0,
        final: row.final === true,
        sending: row.sending === true,
        initializedAt: date('initializedAt'),
        uploadedAt: date('uploadedAt'),
        publishedAt: date('publishedAt'),
        finalAt: date('finalAt'),
        handedBackAt: date('handedBackAt'),
        retriedAs: text('retriedAs'),
        previous: (text('previous') ?? '').split(',').filter(Boolean),
    };
}

/** How far a sent file got, in a few words: "confirmed 2/2", "published, confirmed 1/2", "failed: Checksum mismatch". */
export function sentProgress(
    facts: Pick<SentFacts, 'state' | 'recipients' | 'confirmedRecipients' | 'brokerStatusText' | 'retriedAs'>,
): string {
    const count = `${facts.confirmedRecipients}/${facts.recipients.length}`;
    switch (facts.state) {
        case 'confirmed':
            return `confirmed ${count}`;
        case 'published':
        case 'expired':
        case 'deleted':
            return `${facts.state}, confirmed ${count}`;
        case 'failed':
            return facts.brokerStatusText ? `failed: ${facts.brokerStatusText}` : 'failed';
        case 'retried':
            return `upload broke, sent again as ${facts.retriedAs ?? 'a new transfer'}`;
        default:
            return facts.state;
    }
}
