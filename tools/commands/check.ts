/**
 * `aos check`: the deployment check (shared/check). With --url it asks the deployed app's
 * `/api/check`, so that every check runs as the app itself (its managed identity, its settings);
 * without, it runs the same checks here with local.settings.json and the environment. Either way
 * it prints one line per check, and exits 1 when any check failed.
 */
import { renderCheckTable, runChecks, type CheckReport } from '../../shared/check';
import { deploymentClient, DeploymentError, functionKeyVariable } from '../deployment';
import { exitCodes, settingsOf, storageOf, UsageError, type CliIo, type Command, parseCommandArgs } from '../cli';

const usage = `Usage:
  npm run aos -- check --url <function app URL> [--key <function key>] [--json]
  npm run aos -- check [--app-url <URL the app answers on>] [--json] [--account <storage account>]
With --url: the deployed app's /api/check runs every check as the app itself; the function key comes
from --key or ${functionKeyVariable}. Without: the same checks here, with local.settings.json and the
environment; subscriptions must point at --app-url (default https://$WEBSITE_HOSTNAME, or
http://localhost:7071 for the local host).
Exit code: 0 when no check failed, 1 when one did, 2 when the checks could not run.`;

/** The local host's address (npm start, npm run host): where subscriptions point in development. */
const localHost = 'http://localhost:7071';

async function remoteReport(url: string, key: string | undefined): Promise<CheckReport> {
    const { json } = await deploymentClient(url, key).getJson<CheckReport>('check');
    if (!json || !Array.isArray(json.checks))
        throw new DeploymentError(`${url} has no /api/check that answers a report`);
    return json;
}

function localReport(appUrl: string | undefined, account: string | undefined, io: CliIo): Promise<CheckReport> {
    const env = settingsOf(io);
    const origin = appUrl ?? (env.WEBSITE_HOSTNAME ? `https://${env.WEBSITE_HOSTNAME}` : localHost);
    try {
        new URL(origin);
    } catch {
        throw new UsageError(`--app-url "${origin}" is not an absolute URL.`);
    }
    return runChecks({ env, storage: () => storageOf(account, io), origins: [origin] });
}

export const checkCommand: Command = {
    usage,
    async run(args, io) {
        const { values, positionals } = parseCommandArgs(args, {
            url: { type: 'string' },
            key: { type: 'string' },
            'app-url': { type: 'string' },
            json: { type: 'boolean', default: false },
        });
        if (positionals.length > 0) throw new UsageError(`check takes no arguments, not "${positionals.join(' ')}".`);
        if (values.url && (values['app-url'] || values.account)) {
            throw new UsageError('--app-url and --account are for checks run here; with --url the app checks itself.');
        }
        let report: CheckReport;
        try {
            report = values.url
                ? await remoteReport(values.url, values.key ?? io.env[functionKeyVariable])
                : await localReport(values['app-url'], values.account, io);
        } catch (error) {
            if (!(error instanceof DeploymentError)) throw error;
            io.err(error.message);
            return exitCodes.failed;
        }
        io.out(values.json ? JSON.stringify(report, null, 2) : renderCheckTable(report).join('\n'));
        return report.summary.failed > 0 ? exitCodes.refused : exitCodes.done;
    },
};
