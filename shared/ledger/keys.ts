/**
 * Where a ledger entry lives in the table. The keys are chosen for the questions the status page
 * asks, so that none of them scans the whole table:
 *
 * - PartitionKey `instance:{org}:{app}`, `brokerFile:{resourceId}` (files to us) or
 *   `sentFile:{resourceId}` (files we sent): one partition per app or Broker resource. "Received, stored, confirmed in the last 24 h" and "unconfirmed, and the
 *   oldest" for one app are queries inside its partition (a filter on the dates, or on the
 *   `confirmed` flag, which is written false at first sight because a table cannot filter on a
 *   missing property). All apps of a kind are one PartitionKey range (`instance:` up to `instance;`).
 * - RowKey: the instance GUID or the file transfer id, lower case. Both are GUIDs, unique on
 *   their own, so `aos ledger show <id>` finds an entry without knowing its app (a RowKey query
 *   across partitions: a scan, but only for an operator's single look-up).
 * - Run records (the last reconciliation and catch-up run per app) have their own partitions
 *   `run:{kind}`, one row per app, so the status page reads them in one small query.
 *
 * Key parts are URI-encoded: a table key may not hold / \ # ? or control characters.
 */
export type LedgerKind = 'instance' | 'brokerFile' | 'sentFile';

/** How an instance or file first reached the pipeline (the CloudEvent extension `aosvia`; absent: the webhook). */
export type LedgerVia = 'webhook' | 'catchup' | 'reconciliation';

export const ledgerVias: readonly LedgerVia[] = ['webhook', 'catchup', 'reconciliation'];

/** What an entry is about: an app instance, a Broker file transfer to us, or one we sent (sent.ts). */
export type LedgerSubject =
    | { kind: 'instance'; org: string; app: string; partyId: string; instanceGuid: string }
    | { kind: 'brokerFile' | 'sentFile'; resourceId: string; fileTransferId: string };

/** Which entries a list covers: one app, one Broker resource, or every entry of a kind. */
export type LedgerScope =
    | { kind: 'instance'; org: string; app: string }
    | { kind: 'brokerFile' | 'sentFile'; resourceId: string }
    | { kind: LedgerKind };

const keyPart = (text: string): string => encodeURIComponent(text);

export function partitionKeyOf(scope: LedgerScope | LedgerSubject): string | undefined {
    if (scope.kind === 'instance' && 'org' in scope) return `instance:${keyPart(scope.org)}:${keyPart(scope.app)}`;
    if (scope.kind !== 'instance' && 'resourceId' in scope) return `${scope.kind}:${keyPart(scope.resourceId)}`;
    return undefined;
}

/** The PartitionKey range that holds every entry of a kind: [`{kind}:`, `{kind};`). */
export function partitionRangeOf(kind: LedgerKind): { from: string; to: string } {
    return { from: `${kind}:`, to: `${kind};` };
}

export function rowKeyOf(subject: LedgerSubject): string {
    return keyPart(
        subject.kind === 'instance' ? subject.instanceGuid.toLowerCase() : subject.fileTransferId.toLowerCase(),
    );
}

/** The subject's own id: Altinn's instance id `{partyId}/{instanceGuid}`, or the file transfer id. */
export function idOf(subject: LedgerSubject): string {
    return subject.kind === 'instance'
        ? `${subject.partyId}/${subject.instanceGuid.toLowerCase()}`
        : subject.fileTransferId.toLowerCase();
}

export function runPartitionKey(kind: string): string {
    return `run:${keyPart(kind)}`;
}

export { keyPart as encodeKeyPart };
