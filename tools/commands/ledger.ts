/**
 * `aos ledger show <instanceId|instanceGuid|fileTransferId> [--json]`: what the ledger knows of one
 * instance or Broker file: when and how it was first seen, stored, confirmed, handed off, its last
 * failure, whether it went to a poison queue, and whether Altinn no longer has it or it was refused
 * (shared/ledger). `aos ledger not-handed-off` and `aos ledger not-ended` list instances (ledgerLists.ts).
 */
import { ledgerOf, type LedgerEntry } from '../../shared/ledger';
import { exitCodes, storageOf, UsageError, type Command, parseCommandArgs } from '../cli';
import { isLedgerList, ledgerLists } from './ledgerLists';

const usage = `Usage:
  npm run aos -- ledger show <instanceId | instanceGuid | fileTransferId> [--json] [--account <storage account>]
  npm run aos -- ledger not-handed-off [--json] [--account <storage account>]
  npm run aos -- ledger not-ended [--json] [--account <storage account>]`;

const time = (date: Date | undefined): string => date?.toISOString() ?? '-';

export function formatEntry(entry: LedgerEntry): string {
    const what =
        entry.kind === 'instance'
            ? `instance ${entry.id}  ${entry.org}/${entry.app}`
            : `Broker file ${entry.id}  ${entry.resourceId}`;
    const lines = [
        what,
        `  first seen    ${time(entry.firstSeenAt)}${entry.firstSeenVia ? `  via ${entry.firstSeenVia}` : ''}${entry.firstEventId ? `  (event ${entry.firstEventId})` : ''}`,
        `  stored        ${time(entry.storedAt)}${entry.storedAt ? `  ${entry.elements !== undefined ? `${entry.elements} element(s), ` : ''}${entry.bytes ?? 0} bytes` : ''}`,
        `  confirmed     ${entry.confirmed ? time(entry.confirmedAt) : 'no'}`,
    ];
    if (entry.handedOffAt || entry.handedOff === false) {
        const version = entry.handedOffVersion ? `  version ${entry.handedOffVersion}` : '';
        lines.push(
            `  handed off    ${entry.handedOffAt ? `${time(entry.handedOffAt)}  (instances-received)${version}` : 'no'}`,
        );
    }
    if (entry.notEndedAt) {
        lines.push(
            `  not ended     ${time(entry.notEndedAt)}  in ${entry.notEndedTask ?? '?'}  (nothing confirmed; event ${entry.notEndedEventId ?? '?'})`,
        );
    }
    if (entry.lastFailureAt) {
        lines.push(
            `  last failure  ${time(entry.lastFailureAt)}  ${entry.lastFailureStep ?? ''}: ${entry.lastFailureError ?? ''}`,
        );
    }
    if (entry.neverConfirmedAt) {
        lines.push(`  never confirmed  ${time(entry.neverConfirmedAt)}  (Broker purged it without our confirmation)`);
    }
    if (entry.poisonedAt) lines.push(`  poisoned      ${time(entry.poisonedAt)}  (see npm run aos -- poison list)`);
    if (entry.goneAt)
        lines.push(`  gone          ${time(entry.goneAt)}  (Altinn answered 404: nothing to store or confirm)`);
    if (entry.refusedAt) lines.push(`  refused       ${time(entry.refusedAt)}  ${entry.refusedReason ?? ''}`.trimEnd());
    return lines.join('\n');
}

export const ledgerCommand: Command = {
    usage,
    async run(args, io) {
        const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
        const [action, id, ...extra] = positionals;
        if (isLedgerList(action) && id === undefined) {
            const { rows, text } = await ledgerLists[action](ledgerOf(storageOf(values.account, io)), new Date());
            io.out(values.json ? JSON.stringify(rows, null, 2) : text.join('\n'));
            return exitCodes.done;
        }
        if (action !== 'show' || !id || extra.length > 0) {
            throw new UsageError(
                action && action !== 'show' ? `Unknown subcommand "${action}".` : 'ledger show needs one id.',
            );
        }
        const entries = await ledgerOf(storageOf(values.account, io)).find(id);
        if (entries.length === 0) {
            io.err(`The ledger has no instance or Broker file ${id}.`);
            return exitCodes.refused;
        }
        io.out(values.json ? JSON.stringify(entries, null, 2) : entries.map(formatEntry).join('\n\n'));
        return exitCodes.done;
    },
};
