#!/usr/bin/env node
/**
 * `aos`: the operator's one command (`npm run aos -- <command>`, or `aos <command>` once installed).
 * Each command lives in tools/commands/ and is listed here; see tools/cli.ts for the flags and
 * exit codes they share.
 */
import { formatFields } from '../shared/log';
import { exitCodes, UsageError, type CliIo, type Command } from './cli';
import { brokerCommand } from './commands/broker';
import { checkCommand } from './commands/check';
import { ledgerCommand } from './commands/ledger';
import { poisonCommand } from './commands/poison';
import { reconcileCommand } from './commands/reconcile';
import { smokeCommand } from './commands/smoke';
import { statusCommand } from './commands/status';
import { subscriptionsCommand } from './commands/subscriptions';
import { printableIo } from './output';

interface CommandEntry {
    summary: string;
    command: Command;
}

/** Every command, one file each in tools/commands/. */
export const commands: Record<string, CommandEntry> = {
    poison: {
        summary: 'list | replay | drop poison messages, with the error that put each there',
        command: poisonCommand,
    },
    subscriptions: {
        summary: 'list | add | remove Altinn Events subscriptions, beside their blobs',
        command: subscriptionsCommand,
    },
    reconcile: {
        summary: 'reconcile [--app org/app] [--dry-run]: queue what Altinn has complete and unconfirmed',
        command: reconcileCommand,
    },
    status: {
        summary: 'what was received, stored and confirmed, what waits, poison messages, subscriptions',
        command: statusCommand,
    },
    ledger: {
        summary:
            'show <id>: what the ledger knows of an instance or Broker file; not-handed-off, not-ended: instances to look at',
        command: ledgerCommand,
    },
    broker: {
        summary: 'send <file> --resource <id> --recipient <orgnr>: send a file through Altinn 3 Broker',
        command: brokerCommand,
    },
    check: {
        summary: 'check a deployment (--url, or here): storage, key, Maskinporten, Altinn, apps, Broker, subscriptions',
        command: checkCommand,
    },
    smoke: {
        summary:
            'smoke --app org/app --file <data> --data-type <id>: one instance through the deployment (test environments only)',
        command: smokeCommand,
    },
};

export function usage(): string {
    const width = Math.max(...Object.keys(commands).map((name) => name.length));
    return [
        'Usage: npm run aos -- <command> [options]   (or: aos <command>)',
        ...Object.entries(commands).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
        'Every command: --account <storage account> (your Entra sign-in) instead of AzureWebJobsStorage from',
        'the environment or ./local.settings.json; --help for its own usage.',
    ].join('\n');
}

/** Runs one command line; resolves to the exit code. Everything it prints is redacted and escaped (output.ts). */
export async function runAos(args: string[], terminal: CliIo): Promise<number> {
    const io = printableIo(terminal);
    const [name, ...rest] = args;
    const entry = name === undefined ? undefined : commands[name];
    if (!entry) {
        if (name !== undefined && name !== '--help' && name !== '-h') io.err(`Unknown command "${name}".`);
        io.err(usage());
        return name === '--help' || name === '-h' ? exitCodes.done : exitCodes.refused;
    }
    const { command } = entry;
    try {
        return await command.run(rest, io);
    } catch (error) {
        if (error instanceof UsageError) {
            if (error.message) io.err(error.message);
            io.err(command.usage);
            return error.message ? exitCodes.refused : exitCodes.done;
        }
        if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
            io.err(error.message);
            io.err(command.usage);
            return exitCodes.refused;
        }
        throw error;
    }
}

if (require.main === module) {
    runAos(process.argv.slice(2), {
        env: process.env,
        cwd: process.cwd(),
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
    }).then(
        (code) => (process.exitCode = code),
        (error: unknown) => {
            process.stderr.write(
                `${formatFields('cli-failed', { error: error instanceof Error ? error.message : String(error) })}\n`,
            );
            process.exitCode = exitCodes.failed;
        },
    );
}
