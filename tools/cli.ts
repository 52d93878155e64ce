/**
 * What every `aos` command shares: where it writes, where its settings come from, and the storage
 * it works on. Settings: local.settings.json (Values) in the current folder, with the environment
 * winning, as for the local host. Storage: AzureWebJobsStorage from those settings, or
 * `--account <name>` for an Azure storage account reached with the operator's own Entra sign-in
 * (DefaultAzureCredential: az login, VS Code, environment), on its blob, queue and table endpoints.
 *
 * Exit codes, the same for every command: 0 done, 1 refused (bad usage, a missing setting, a request
 * Altinn refuses), 2 failed (storage or Altinn unreachable; try again later).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { mergeSettings, readLocalSettings } from '../shared/localSettings';
import type { StepLogger } from '../shared/log';
import { createStorage, type Storage } from '../shared/storage';

export interface CliIo {
    env: Record<string, string | undefined>;
    cwd: string;
    out: (line: string) => void;
    err: (line: string) => void;
}

export interface Command {
    /** The command's usage text. */
    usage: string;
    /** Runs with the arguments after the command name; resolves to the exit code. */
    run(args: string[], io: CliIo): Promise<number>;
}

export const exitCodes = { done: 0, refused: 1, failed: 2 } as const;

/** Bad usage: the message (if any) and the command's usage go to stderr, exit 1 (0 for --help). */
export class UsageError extends Error {}

/** The options every command accepts. */
export const commonOptions = {
    account: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

/** A command's own options, beside the common ones. */
type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** Parses a command's arguments (the common options and its own, positionals allowed); --help is a UsageError. */
export function parseCommandArgs<const O extends CommandOptions>(args: string[], options: O) {
    const parsed = parseArgs({ args, allowPositionals: true as const, options: { ...commonOptions, ...options } });
    if ((parsed.values as { help?: boolean }).help) throw new UsageError('');
    return parsed;
}

/** App settings for a command: local.settings.json in the current folder, overlaid by the environment. */
export function settingsOf(io: CliIo): Record<string, string> {
    return { ...mergeSettings(readLocalSettings(io.cwd), io.env) };
}

/** Storage: the named account with the operator's Entra sign-in, or AzureWebJobsStorage from the settings. */
export function storageOf(account: string | undefined, io: CliIo): Storage {
    if (account) {
        if (!/^[a-z0-9]{3,24}$/.test(account))
            throw new UsageError(`--account "${account}" is not a storage account name.`);
        return createStorage({
            AzureWebJobsStorage__blobServiceUri: `https://${account}.blob.core.windows.net`,
            AzureWebJobsStorage__queueServiceUri: `https://${account}.queue.core.windows.net`,
            AzureWebJobsStorage__tableServiceUri: `https://${account}.table.core.windows.net`,
        });
    }
    return createStorage(settingsOf(io));
}

/** Step lines of the shared code go to stderr, so that stdout holds only the command's answer. */
export function stderrLogger(io: CliIo): StepLogger {
    const write = (...args: unknown[]) => io.err(args.map(String).join(' '));
    return { info: write, warn: write, error: write };
}
