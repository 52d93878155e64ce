/**
 * The parts of the status that say where the instance pipeline's promises are not kept yet, from
 * the ledger (shared/instances/once.ts, processEnd.ts): instances confirmed to Altinn whose hand-off
 * message to the case systems was never sent (Altinn may purge them, and no case system knows of
 * them), and instances whose completed event found the process not ended (nothing confirmed; left
 * for catch-up and reconciliation). One query each, on flags the pipeline writes.
 */
import type { Ledger, LedgerEntry } from '../ledger';
import { roundHours } from './ledgerPart';
import { notEndedWindowDays, notHandedOffHours, type NotEndedStatus, type NotHandedOffStatus } from './report';

const hourMs = 60 * 60 * 1000;

const appOf = (entry: LedgerEntry): string => `${entry.org ?? ''}/${entry.app ?? ''}`;

export async function notHandedOffInstances(ledger: Ledger, now: Date): Promise<NotHandedOffStatus[]> {
    const entries = await ledger.listNotHandedOff(new Date(now.getTime() - notHandedOffHours * hourMs));
    return entries.map((entry) => ({
        instanceId: entry.id,
        app: appOf(entry),
        confirmedAt: entry.confirmedAt!.toISOString(),
        hours: roundHours(now.getTime() - entry.confirmedAt!.getTime()),
        poisoned: entry.poisonedAt !== undefined,
    }));
}

export async function notEndedInstances(ledger: Ledger, now: Date): Promise<NotEndedStatus[]> {
    const entries = await ledger.listNotEnded(new Date(now.getTime() - notEndedWindowDays * 24 * hourMs));
    return entries.map((entry) => ({
        instanceId: entry.id,
        app: appOf(entry),
        at: entry.notEndedAt!.toISOString(),
        task: entry.notEndedTask,
        eventId: entry.notEndedEventId,
    }));
}
