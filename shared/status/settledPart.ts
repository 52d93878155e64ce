/**
 * Instances settled without a confirmation (shared/ledger/settled.ts), per app: those Altinn
 * answered 404 for (gone: nothing left to store or confirm) and those refused because their app is
 * not in AcceptedApps (their events are in a poison queue). They are out of the not-confirmed
 * count, which is what waits; this row keeps them in sight. One range query over the instances.
 */
import type { Ledger, LedgerEntry } from '../ledger';
import type { SettledStatus } from './report';

export async function settledStatuses(ledger: Ledger): Promise<SettledStatus[]> {
    const byApp = new Map<string, SettledStatus>();
    for (const entry of await ledger.listSettled({ kind: 'instance' })) {
        const scope = `${entry.org ?? ''}/${entry.app ?? ''}`;
        let status = byApp.get(scope);
        if (!status) byApp.set(scope, (status = { scope, gone: 0, refused: 0 }));
        if (entry.goneAt) status.gone++;
        if (entry.refusedAt) status.refused++;
        const at = settledAt(entry);
        if (status.latestAt === undefined || at > status.latestAt) {
            status.latestAt = at;
            status.latestId = entry.id;
        }
    }
    return [...byApp.values()].sort((a, b) => a.scope.localeCompare(b.scope));
}

function settledAt(entry: LedgerEntry): string {
    const times = [entry.goneAt, entry.refusedAt].filter((date): date is Date => date !== undefined);
    return new Date(Math.max(...times.map((date) => date.getTime()))).toISOString();
}
