/**
 * `aos status [--json]`: the status page's report in the terminal (shared/status): what was
 * received, stored and confirmed per app and Broker resource, what is not confirmed, the last
 * runs, poison messages and subscriptions. It reads storage only, never Altinn.
 */
import { loadConfig } from '../../shared/config';
import { errorMessage } from '../../shared/log';
import { gatherStatus, renderStatusText, type StatusDeps } from '../../shared/status';
import { exitCodes, settingsOf, storageOf, UsageError, type CliIo, type Command, parseCommandArgs } from '../cli';

const usage = `Usage:
  npm run aos -- status [--json] [--account <storage account>]`;

/**
 * The apps and resources the settings name, so that they show even with nothing seen yet. Without
 * complete settings (an operator reaching Azure with --account) the ledger's apps still show.
 */
function configuredScopes(io: CliIo): StatusDeps['config'] {
    try {
        const { catchUpApps, reconcileApps, brokerResources, recovery } = loadConfig(settingsOf(io));
        return { catchUpApps, reconcileApps, brokerResources, recovery };
    } catch (error) {
        io.err(`(settings not complete, showing the apps the ledger has seen: ${errorMessage(error)})`);
        return { catchUpApps: [], reconcileApps: [], brokerResources: [] };
    }
}

export const statusCommand: Command = {
    usage,
    async run(args, io) {
        const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
        if (positionals.length > 0) throw new UsageError(`status takes no arguments, not "${positionals.join(' ')}".`);
        const report = await gatherStatus({ config: configuredScopes(io), storage: storageOf(values.account, io) });
        io.out(values.json ? JSON.stringify(report, null, 2) : renderStatusText(report).join('\n'));
        return report.unavailable.length > 0 ? exitCodes.failed : exitCodes.done;
    },
};
