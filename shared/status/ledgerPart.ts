/**
 * The parts of the status that come from the ledger (shared/ledger): per app and Broker resource,
 * what was received, stored and confirmed in the window and what is still unconfirmed; and the
 * last reconciliation and catch-up run per app. Two range queries per kind, whatever the number
 * of apps (the ledger's PartitionKey per app keeps each kind in one key range).
 */
import type { AppConfig } from '../config';
import { lastRuns, type Ledger, type LedgerEntry } from '../ledger';
import { neverConfirmedWindowDays, type NeverConfirmedFileStatus, type RunStatus, type ScopeStatus } from './report';

const hourMs = 60 * 60 * 1000;

function scopeOf(entry: LedgerEntry): string {
    return entry.kind === 'brokerFile' ? (entry.resourceId ?? '') : `${entry.org ?? ''}/${entry.app ?? ''}`;
}

function emptyScope(kind: ScopeStatus['kind'], scope: string): ScopeStatus {
    return { kind, scope, received: 0, stored: 0, confirmed: 0, unconfirmed: 0, poisoned: 0 };
}

function after(date: Date | undefined, since: Date): boolean {
    return date !== undefined && date.getTime() >= since.getTime();
}

/** Per scope of one kind; `configured` scopes appear even when the ledger has nothing for them. */
export async function scopeStatuses(
    ledger: Ledger,
    kind: ScopeStatus['kind'],
    configured: string[],
    now: Date,
    windowHours: number,
): Promise<ScopeStatus[]> {
    const since = new Date(now.getTime() - windowHours * hourMs);
    const [recent, unconfirmed] = await Promise.all([
        ledger.listSince({ kind }, since),
        ledger.listUnconfirmed({ kind }),
    ]);
    const byScope = new Map<string, ScopeStatus>(configured.map((scope) => [scope, emptyScope(kind, scope)]));
    const statusOf = (entry: LedgerEntry): ScopeStatus => {
        const scope = scopeOf(entry);
        let status = byScope.get(scope);
        if (!status) byScope.set(scope, (status = emptyScope(kind, scope)));
        return status;
    };
    for (const entry of recent) {
        const status = statusOf(entry);
        if (after(entry.firstSeenAt, since)) status.received++;
        if (after(entry.storedAt, since)) status.stored++;
        if (after(entry.confirmedAt, since)) status.confirmed++;
    }
    // listUnconfirmed is oldest first, so the first entry of a scope is its oldest.
    for (const entry of unconfirmed) {
        const status = statusOf(entry);
        status.unconfirmed++;
        if (entry.poisonedAt) status.poisoned++;
        if (status.oldestUnconfirmedHours === undefined && entry.firstSeenAt) {
            status.oldestUnconfirmedHours = roundHours(now.getTime() - entry.firstSeenAt.getTime());
            status.oldestUnconfirmedId = entry.id;
        }
    }
    return [...byScope.values()].sort((a, b) => a.scope.localeCompare(b.scope));
}

export function roundHours(ms: number): number {
    return Math.round((ms / hourMs) * 10) / 10;
}

/** The apps the system is told about: those it catches up and those it reconciles. */
export function configuredApps(config: Pick<AppConfig, 'catchUpApps' | 'reconcileApps'>): string[] {
    return [...new Set([...config.catchUpApps, ...config.reconcileApps].map(({ org, app }) => `${org}/${app}`))];
}

/** The last reconciliation and catch-up run of every app. */
export async function runStatuses(ledger: Ledger): Promise<RunStatus[]> {
    const runs = [...(await lastRuns(ledger, 'reconciliation')), ...(await lastRuns(ledger, 'catchup'))];
    return runs.map((run) => ({
        kind: run.kind,
        subject: run.subject,
        at: run.at instanceof Date ? run.at.toISOString() : String(run.at),
        found: run.found,
        queued: run.queued,
        unconfirmed: run.unconfirmed,
        oldestUnconfirmedHours: run.oldestUnconfirmedHours,
        error: run.error,
    }));
}

/** Broker files Broker reported as purged without our confirmation, within the window. */
export async function neverConfirmedFiles(ledger: Ledger, now: Date): Promise<NeverConfirmedFileStatus[]> {
    const since = new Date(now.getTime() - neverConfirmedWindowDays * 24 * hourMs);
    const entries = await ledger.listNeverConfirmed(since);
    return entries.map((entry) => ({
        fileTransferId: entry.id,
        resourceId: entry.resourceId ?? '',
        at: entry.neverConfirmedAt!.toISOString(),
        stored: entry.storedAt !== undefined,
        poisoned: entry.poisonedAt !== undefined,
    }));
}
