/**
 * npm run poison -- list [--queue events-inbound]
 * npm run poison -- replay --queue events-inbound [--id <messageId> ...] [--all]
 * npm run poison -- drop --queue events-inbound (--id <messageId> ... | --all)
 *
 * Storage: AzureWebJobsStorage from the environment or ./local.settings.json, or --account <name>
 * for an Azure storage account reached with your own Entra identity (az login).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dropPoison, listPoison, pipelineQueues, replayPoison, type PoisonMessage } from '../shared/poison';
import { createStorage, type Storage } from '../shared/storage';

const usage = `Usage:
  npm run poison -- list [--queue <queue>]
  npm run poison -- replay --queue <queue> (--id <messageId> ... | --all)
  npm run poison -- drop --queue <queue> (--id <messageId> ... | --all)
Options: --account <storage account name> (Entra sign-in) instead of AzureWebJobsStorage
Queues: ${pipelineQueues.join(', ')}`;

function storageFrom(account: string | undefined): Storage {
    if (account) {
        return createStorage({
            AzureWebJobsStorage__blobServiceUri: `https://${account}.blob.core.windows.net`,
            AzureWebJobsStorage__queueServiceUri: `https://${account}.queue.core.windows.net`,
        });
    }
    const env: Record<string, string | undefined> = { ...process.env };
    if (!env.AzureWebJobsStorage && existsSync('local.settings.json')) {
        const local = JSON.parse(readFileSync('local.settings.json', 'utf8')) as { Values?: Record<string, string> };
        env.AzureWebJobsStorage = local.Values?.AzureWebJobsStorage;
    }
    return createStorage(env);
}

function formatAge(seconds: number | undefined): string {
    if (seconds === undefined) return '?';
    if (seconds < 120) return `${seconds}s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
    if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
    return `${Math.round(seconds / 86400)}d`;
}

export function formatPoison(messages: PoisonMessage[]): string {
    if (messages.length === 0) return 'No poison messages.';
    return messages
        .map((m) =>
            [
                `${m.queue}-poison  ${m.messageId}  age ${formatAge(m.ageSeconds)}`,
                `  event ${m.eventId ?? '(not a CloudEvent)'}  ${m.eventType ?? ''}  ${m.subject ?? ''}`.trimEnd(),
                `  error ${m.lastError ?? '(not recorded)'}${m.failedAt ? `  at ${m.failedAt}` : ''}`,
            ].join('\n'),
        )
        .join('\n');
}

export async function main(argv: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            queue: { type: 'string' },
            id: { type: 'string', multiple: true },
            all: { type: 'boolean', default: false },
            account: { type: 'string' },
            help: { type: 'boolean', default: false },
        },
    });
    const command = positionals[0];
    if (values.help || !command) {
        console.log(usage);
        return command ? 0 : 2;
    }
    if (values.queue && !pipelineQueues.includes(values.queue)) {
        console.error(`Unknown queue "${values.queue}". ${usage}`);
        return 2;
    }
    const storage = storageFrom(values.account);
    if (command === 'list') {
        console.log(formatPoison(await listPoison(storage, values.queue ? [values.queue] : pipelineQueues)));
        return 0;
    }
    if (command !== 'replay' && command !== 'drop') {
        console.error(`Unknown command "${command}".\n${usage}`);
        return 2;
    }
    if (!values.queue || (!values.all && !values.id?.length)) {
        console.error(`${command} needs --queue and either --id <messageId> or --all.\n${usage}`);
        return 2;
    }
    const selection = { queue: values.queue, messageIds: values.all ? undefined : values.id };
    const count = command === 'replay' ? await replayPoison(storage, selection) : await dropPoison(storage, selection);
    console.log(`${command === 'replay' ? 'Replayed' : 'Dropped'} ${count} message(s) from ${values.queue}-poison.`);
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (error: unknown) => {
            console.error(error instanceof Error ? error.message : error);
            process.exitCode = 1;
        },
    );
}
