/**
 * `aos ledger not-handed-off` and `aos ledger not-ended`: the instances the status page counts where
 * the pipeline's promises are not kept yet (shared/status/handOffPart.ts): confirmed to Altinn and
 * never handed off to instances-received, and not confirmed because the process had not ended.
 */
import type { Ledger } from '../../shared/ledger';
import { notEndedInstances, notHandedOffInstances } from '../../shared/status/handOffPart';
import { notEndedWindowDays, notHandedOffHours } from '../../shared/status/report';

interface LedgerList<Row> {
    rows(ledger: Ledger, now: Date): Promise<Row[]>;
    /** What the rows are, after their count. */
    heading: string;
    line(row: Row): string;
}

function list<Row>(spec: LedgerList<Row>) {
    return async (ledger: Ledger, now: Date): Promise<{ rows: Row[]; text: string[] }> => {
        const rows = await spec.rows(ledger, now);
        return { rows, text: [`${rows.length} ${spec.heading}`, ...rows.map((row) => `  ${spec.line(row)}`)] };
    };
}

export const ledgerLists = {
    'not-handed-off': list({
        rows: notHandedOffInstances,
        heading: `instance(s) confirmed to Altinn more than ${notHandedOffHours} h ago and never handed off to instances-received`,
        line: (row) =>
            `${row.instanceId}  ${row.app}  confirmed ${row.confirmedAt} (${row.hours} h ago)${row.poisoned ? '  in poison: npm run aos -- poison list' : ''}`,
    }),
    'not-ended': list({
        rows: notEndedInstances,
        heading: `instance(s) not confirmed because the process had not ended (last ${notEndedWindowDays} days)`,
        line: (row) =>
            `${row.instanceId}  ${row.app}  at ${row.at}  in ${row.task ?? '?'}  event ${row.eventId ?? '?'}`,
    }),
} as const;

export function isLedgerList(name: string | undefined): name is keyof typeof ledgerLists {
    return name !== undefined && Object.hasOwn(ledgerLists, name);
}
