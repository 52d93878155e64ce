/**
 * `aos poison list|replay|drop`: see what ended in a poison queue and why, put it back once the
 * cause is fixed, or drop it (shared/poison.ts).
 */
import { dropPoison, listPoison, pipelineQueues, replayPoison, type PoisonMessage } from '../../shared/poison';
import { exitCodes, storageOf, UsageError, type Command, parseCommandArgs } from '../cli';

const usage = `Usage:
  npm run aos -- poison list [--queue <queue>]
  npm run aos -- poison replay --queue <queue> (--id <messageId> ... | --all)
  npm run aos -- poison drop --queue <queue> (--id <messageId> ... | --all)
Options: --account <storage account name> (Entra sign-in) instead of AzureWebJobsStorage
Queues: ${pipelineQueues.join(', ')}`;

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
                `  ${m.refused ? 'refused' : 'error'} ${m.lastError ?? '(not recorded)'}${m.failedAt ? `  at ${m.failedAt}` : ''}`,
            ].join('\n'),
        )
        .join('\n');
}

export const poisonCommand: Command = {
    usage,
    async run(args, io) {
        const { values, positionals } = parseCommandArgs(args, {
            queue: { type: 'string' },
            id: { type: 'string', multiple: true },
            all: { type: 'boolean', default: false },
        });
        const [action, ...extra] = positionals;
        if (values.help || !action) throw new UsageError(action || values.help ? '' : 'A subcommand is required.');
        if (extra.length > 0) throw new UsageError(`Unexpected argument ${extra[0]}.`);
        if (values.queue && !pipelineQueues.includes(values.queue)) {
            throw new UsageError(`Unknown queue "${values.queue}".`);
        }
        if (action === 'list') {
            const storage = storageOf(values.account, io);
            io.out(formatPoison(await listPoison(storage, values.queue ? [values.queue] : pipelineQueues)));
            return exitCodes.done;
        }
        if (action !== 'replay' && action !== 'drop') throw new UsageError(`Unknown subcommand "${action}".`);
        if (!values.queue || (!values.all && !values.id?.length)) {
            throw new UsageError(`${action} needs --queue and either --id <messageId> or --all.`);
        }
        const storage = storageOf(values.account, io);
        const selection = { queue: values.queue, messageIds: values.all ? undefined : values.id };
        const count =
            action === 'replay' ? await replayPoison(storage, selection) : await dropPoison(storage, selection);
        io.out(`${action === 'replay' ? 'Replayed' : 'Dropped'} ${count} message(s) from ${values.queue}-poison.`);
        return exitCodes.done;
    },
};
