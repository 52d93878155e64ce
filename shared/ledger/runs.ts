/**
 * The last reconciliation and catch-up run per app (or Broker resource), kept in the ledger table
 * under PartitionKey `run:{kind}` with one row per app, so that the status page can say when each
 * last ran and what it found. Each run replaces its app's row.
 */
import { odata } from '@azure/data-tables';
import { errorMessage, warnStep, type StepLogger } from '../log';
import { redactPersonalData } from '../redact';
import { encodeKeyPart, runPartitionKey } from './keys';
import { statusOf, type Ledger } from './ledger';

export type RunKind = 'reconciliation' | 'catchup';

export interface RunRecord {
    kind: RunKind;
    /** `{org}/{app}`, or a Broker resource id. */
    subject: string;
    at: Date;
    /** What the run found (instances complete and unconfirmed in Altinn, or events). */
    found?: number;
    queued: number;
    /** Reconciliation: instances complete in Altinn and not confirmed by us, and the age of the oldest. */
    unconfirmed?: number;
    oldestUnconfirmedHours?: number;
    /** Set when the run failed. */
    error?: string;
    durationMs?: number;
}

/** Replaces the app's row with this run; never rejects (a failed write is logged). */
export async function recordRun(ledger: Ledger, logger: StepLogger, run: RunRecord): Promise<void> {
    try {
        await ledger.ensureTable();
        await ledger.table.upsertEntity(
            {
                partitionKey: runPartitionKey(run.kind),
                rowKey: encodeKeyPart(run.subject),
                ...run,
                error: run.error === undefined ? undefined : redactPersonalData(run.error),
            },
            'Replace',
        );
    } catch (error) {
        warnStep(logger, 'ledger-write-failed', {
            fact: 'run',
            kind: run.kind,
            id: run.subject,
            error: errorMessage(error),
        });
    }
}

/** The last run of each app of a kind. */
export async function lastRuns(ledger: Ledger, kind: RunKind): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    try {
        const rows = ledger.table.listEntities<Record<string, unknown>>({
            queryOptions: { filter: odata`PartitionKey eq ${runPartitionKey(kind)}` },
        });
        for await (const row of rows) {
            runs.push({
                kind,
                subject: String(row.subject),
                at: row.at as Date,
                found: row.found as number | undefined,
                queued: Number(row.queued ?? 0),
                unconfirmed: row.unconfirmed as number | undefined,
                oldestUnconfirmedHours: row.oldestUnconfirmedHours as number | undefined,
                error: row.error as string | undefined,
                durationMs: row.durationMs as number | undefined,
            });
        }
    } catch (error) {
        if (statusOf(error) === 404) return [];
        throw error;
    }
    return runs;
}
