/**
 * `aos reconcile [--app org/app] [--dry-run]`: runs reconciliation now, as InstancesReconcile does
 * on its schedule (shared/reconcile): every instance of the app that is complete and not confirmed
 * by the owner is queued to events-inbound. Without --app, every app of ReconcileApps. --dry-run
 * lists what would be queued and queues nothing.
 */
import { createAltinnStack, type AltinnStack } from '../../shared/altinn';
import { createStorageApi } from '../../shared/altinn/storage';
import { ConfigError, loadConfig, type AppRef } from '../../shared/config';
import { LocalSettingsError } from '../../shared/localSettings';
import { errorMessage } from '../../shared/log';
import { runReconcile } from '../../shared/reconcile';
import { exitCodes, settingsOf, stderrLogger, storageOf, UsageError, type Command, parseCommandArgs } from '../cli';

const usage = `Usage:
  npm run aos -- reconcile [--app <org/app>] [--dry-run] [--account <storage account>]
Without --app: every app of ReconcileApps (default CatchUpApps). --dry-run lists what would be queued.`;

function parseApp(text: string): AppRef {
    const match = /^([a-z0-9-]+)\/([a-zA-Z0-9_.-]+)$/.exec(text);
    if (!match) throw new UsageError(`--app must look like org/app, not "${text}".`);
    return { org: match[1], app: match[2] };
}

export const reconcileCommand: Command = {
    usage,
    async run(args, io) {
        const { values, positionals } = parseCommandArgs(args, {
            app: { type: 'string' },
            'dry-run': { type: 'boolean', default: false },
        });
        if (positionals.length > 0) throw new UsageError(`Unexpected argument ${positionals[0]}.`);
        const app = values.app === undefined ? undefined : parseApp(values.app);
        const dryRun = values['dry-run'];

        let stack: AltinnStack | undefined;
        try {
            const config = loadConfig(settingsOf(io));
            const apps = app ? [app] : config.reconcileApps;
            if (apps.length === 0)
                throw new UsageError('No app: give --app org/app, or set ReconcileApps or CatchUpApps.');
            stack = createAltinnStack(config);
            const deps = {
                config: { ...config, reconcileApps: apps },
                storage: storageOf(values.account, io),
                altinnStorage: createStorageApi(stack.http, config),
            };
            const results = await runReconcile(deps, stderrLogger(io), { dryRun });
            for (const result of results) {
                const name = `${result.org}/${result.app}`;
                const { 'in-flight': inFlight, 'scan-pending': scanPending, poisoned, settled } = result.skipped;
                const left = inFlight + scanPending + poisoned + settled;
                const leftAlone =
                    left === 0
                        ? ''
                        : ` Left alone ${left} the ledger shows on their way (in flight ${inFlight}, waiting for a malware scan ${scanPending}, poisoned within the day ${poisoned}: see npm run aos -- poison list; gone in Altinn or refused ${settled}).`;
                if (dryRun) {
                    io.out(
                        `${name}: ${result.found} instance(s) complete and not confirmed; would queue ${result.events.length}:${leftAlone}`,
                    );
                    for (const event of result.events)
                        io.out(`  ${event.resourceinstance as string}  ended ${event.time ?? '?'}`);
                } else {
                    io.out(
                        `${name}: ${result.found} instance(s) complete and not confirmed; queued ${result.queued} to events-inbound.${leftAlone}`,
                    );
                    if (result.truncated)
                        io.out(`${name}: stopped before Storage's last page (see step=reconcile-truncated).`);
                }
                if (result.error !== undefined) io.err(`${name}: failed: ${errorMessage(result.error)}`);
            }
            return results.some((result) => result.error !== undefined) ? exitCodes.failed : exitCodes.done;
        } catch (error) {
            if (error instanceof ConfigError || error instanceof LocalSettingsError) {
                io.err(`Configuration: ${error.message}`);
                return exitCodes.refused;
            }
            throw error;
        } finally {
            await stack?.close();
        }
    },
};
