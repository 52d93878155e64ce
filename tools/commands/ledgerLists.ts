/**
 * `aos ledger not-handed-off` and `aos ledger not-ended`: the instances the status page counts where
 * the pipeline's promises are not kept yet (shared/status/handOffPart.ts): confirmed to Altinn and
 * never handed off to instances-received, and not confirmed because the process had not ended.
 */
import type { Ledger } from '../../shared/ledger';
import { notEndedInstances, notHandedOffInstances } from '../../shared/status/handOffPart';
import { notEndedWindowDays, notHandedOffHours } from '../../shared/status/report';

export const ledgerLists = {
    'not-handed-off': {
        async lines(ledger: Ledger, now: Date) {
            const rows = await notHandedOffInstances(ledger, now);
            const head = `${rows.length} instance(s) confirmed to Altinn more than ${notHandedOffHours} h ago and never handed off to instances-received`;
            return {
                rows,
                text: [
                    head,
                    ...rows.map(
                        (row) =>
                            `  ${row.instanceId}  ${row.app}  confirmed ${row.confirmedAt} (${row.hours} h ago)${row.poisoned ? '  in poison: npm run aos -- poison list' : ''}`,
                    ),
                ],
            };
        },
    },
    'not-ended': {
        async lines(ledger: Ledger, now: Date) {
            const rows = await notEndedInstances(ledger, now);
            const head = `${rows.length} instance(s) not confirmed because the process had not ended (last ${notEndedWindowDays} days)`;
            return {
                rows,
                text: [
                    head,
                    ...rows.map(
                        (row) =>
                            `  ${row.instanceId}  ${row.app}  at ${row.at}  in ${row.task ?? '?'}  event ${row.eventId ?? '?'}`,
                    ),
                ],
            };
        },
    },
} as const;

export type LedgerList = keyof typeof ledgerLists;

export function isLedgerList(name: string | undefined): name is LedgerList {
    return name !== undefined && Object.hasOwn(ledgerLists, name);
}
