/**
 * `aos smoke --app org/app --file <data> --data-type <id>`: proves a deployment end to end in an
 * Altinn test environment (tools/smoke/run.ts). It refuses any Altinn or Maskinporten URL that is
 * not a known test environment (tt02, at22, at23, at24, yt01) or this machine, before it calls
 * anything: a smoke instance in production would reach a real case system.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createAltinnStack, type AltinnStack } from '../../shared/altinn';
import type { InstanceOwner } from '../../shared/altinn/apps';
import {
    altinnEnvironmentOf,
    altinnTestEnvironments,
    maskinportenEnvironmentOf,
} from '../../shared/altinn/environments';
import { contentTypeOfFile } from '../../shared/altinn/fileTypes';
import { ConfigError, loadConfig, type AppConfig, type AppRef } from '../../shared/config';
import { errorMessage } from '../../shared/log';
import { deploymentClient, functionKeyVariable } from '../deployment';
import { exitCodes, settingsOf, storageOf, UsageError, type Command, parseCommandArgs } from '../cli';
import { localStatus, remoteStatus } from '../smoke/follow';
import { runSmoke } from '../smoke/run';

/** The process needs a person from some task on: the run stopped there, neither passed nor failed. */
export const needsPersonExitCode = 3;

const usage = `Usage:
  npm run aos -- smoke --app <org/app> --file <path> --data-type <id> [--content-type <type>]
                       [--party <partyId> | --org-number <organisation number>]
                       [--url <function app URL> [--key <function key>]] [--timeout <seconds>]
Test environments only (${altinnTestEnvironments.join(', ')}, or local): creates an instance of the app as the
service owner, uploads the file as a data element of --data-type, moves the process to its end, then
follows the instance through the deployment (its /api/status with --url and --key or ${functionKeyVariable};
otherwise its storage from the settings) until it is stored, confirmed and handed off.
The instance is created for --party, --org-number, or else the service owner's own organisation.
Exit code: 0 handed off; 1 refused (not a test environment, bad usage or settings); 2 failed;
${needsPersonExitCode} stopped where the process needs a person (signing, a confirmation by the owner).`;

function parseApp(text: string | undefined): AppRef {
    const match = /^([a-z0-9-]+)\/([a-zA-Z0-9_.-]+)$/.exec(text ?? '');
    if (!match)
        throw new UsageError(text ? `--app must look like org/app, not "${text}".` : 'smoke needs --app org/app.');
    return { org: match[1], app: match[2] };
}

function parseOwner(party: string | undefined, orgNumber: string | undefined): InstanceOwner | undefined {
    if (party && orgNumber) throw new UsageError('Give --party or --org-number, not both.');
    if (party !== undefined) {
        if (!/^\d+$/.test(party)) throw new UsageError(`--party must be a party id (digits), not "${party}".`);
        return { partyId: party };
    }
    if (orgNumber !== undefined) {
        if (!/^\d{9}$/.test(orgNumber)) throw new UsageError('--org-number must be nine digits.');
        return { organisationNumber: orgNumber };
    }
    return undefined;
}

/** Why these settings are not a test environment, or undefined when they are. */
export function productionRefusal(config: Pick<AppConfig, 'platformBaseUrl' | 'appsBaseUrl' | 'maskinporten'>) {
    const testing = (kind: string) => kind === 'test' || kind === 'local';
    for (const [setting, url] of [
        ['AltinnPlatformBaseUrl', config.platformBaseUrl],
        ['AltinnAppsBaseUrl', config.appsBaseUrl],
    ] as const) {
        const environment = altinnEnvironmentOf(url);
        if (!testing(environment.kind)) {
            const what =
                environment.kind === 'production' ? 'Altinn production' : 'not a known Altinn test environment';
            return `${setting} ${url} is ${what}: aos smoke runs only in ${altinnTestEnvironments.join(', ')} or against a local simulator`;
        }
    }
    if (!testing(maskinportenEnvironmentOf(config.maskinporten.baseUrl).kind)) {
        return `MaskinportenBaseUrl ${config.maskinporten.baseUrl} is not test.maskinporten.no or local: aos smoke runs only in a test environment`;
    }
    return undefined;
}

export const smokeCommand: Command = {
    usage,
    async run(args, io) {
        const { values, positionals } = parseCommandArgs(args, {
            app: { type: 'string' },
            file: { type: 'string' },
            'data-type': { type: 'string' },
            'content-type': { type: 'string' },
            party: { type: 'string' },
            'org-number': { type: 'string' },
            url: { type: 'string' },
            key: { type: 'string' },
            timeout: { type: 'string', default: '300' },
        });
        if (positionals.length > 0) throw new UsageError(`smoke takes no arguments, not "${positionals.join(' ')}".`);
        const app = parseApp(values.app);
        if (!values.file) throw new UsageError('smoke needs --file <path>: the data to upload.');
        if (!values['data-type']) throw new UsageError('smoke needs --data-type <id>: a data type of the app.');
        const owner = parseOwner(values.party, values['org-number']);
        const timeout = Number(values.timeout);
        if (!Number.isInteger(timeout) || timeout < 1) throw new UsageError('--timeout must be whole seconds.');
        const contentType = values['content-type'] ?? contentTypeOfFile(values.file) ?? 'application/octet-stream';

        let config: AppConfig;
        try {
            config = loadConfig(settingsOf(io));
        } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
            io.err(`Configuration: ${error.message}`);
            return exitCodes.refused;
        }
        const refusal = productionRefusal(config);
        if (refusal) {
            io.err(`Refused: ${refusal}.`);
            return exitCodes.refused;
        }
        let body: Buffer;
        try {
            body = readFileSync(values.file);
        } catch (error) {
            throw new UsageError(`--file ${values.file} cannot be read: ${errorMessage(error)}`);
        }

        const status = values.url
            ? remoteStatus(deploymentClient(values.url, values.key ?? io.env[functionKeyVariable]))
            : localStatus(storageOf(values.account, io));
        const deployment = values.url ?? 'its storage (from the settings)';
        io.out(`aos smoke: ${app.org}/${app.app} on ${config.appsBaseUrl}, following ${deployment}`);
        let stack: AltinnStack | undefined;
        try {
            stack = createAltinnStack(config);
            const outcome = await runSmoke(
                {
                    app,
                    dataType: values['data-type'],
                    fileName: basename(values.file),
                    contentType,
                    body,
                    owner,
                    timeoutMs: timeout * 1000,
                },
                config,
                stack,
                status,
                io.out,
            );
            if (outcome === 'handed-off') return exitCodes.done;
            return outcome === 'needs-person' ? needsPersonExitCode : exitCodes.failed;
        } catch (error) {
            io.err(`Failed: ${errorMessage(error)}`);
            return exitCodes.failed;
        } finally {
            await stack?.close();
        }
    },
};
