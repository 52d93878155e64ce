/**
 * One submission as the ledger knows it, for `GET /api/status?id=<instanceId | instanceGuid |
 * fileTransferId>`: when it was first seen, stored, confirmed in Altinn and handed off to the case
 * systems, and its last failure. `aos smoke` follows a new instance through this answer; an operator
 * asks it about one citizen's submission without searching blobs and logs.
 */
import { ledgerOf, type LedgerEntry } from '../ledger';
import type { Storage } from '../storage';

const guid = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const submissionId = new RegExp(`^(\\d+/)?${guid}$`);

/** An Altinn instance id `{partyId}/{instanceGuid}`, an instance GUID or a Broker file transfer id. */
export function isSubmissionId(id: string): boolean {
    return submissionId.test(id.trim());
}

export interface SubmissionStatus {
    id: string;
    /** Every ledger entry with this id: none before the system has seen it, one as a rule. */
    entries: LedgerEntry[];
}

export async function submissionStatus(storage: Storage, id: string): Promise<SubmissionStatus> {
    return { id: id.trim().toLowerCase(), entries: await ledgerOf(storage).find(id) };
}
