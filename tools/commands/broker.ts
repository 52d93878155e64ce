/**
 * `aos broker send <file> --resource <id> --recipient <orgnr> [...]`: sends a file through Altinn 3
 * Broker the way a case system does, for an operator: the file goes into container broker-outbound
 * (streamed, its MD5 computed on the way) and a send request naming it onto queue broker-send
 * (docs/broker-send.schema.json), where BrokerSender takes it. The request is checked before it is
 * queued, with the same rules BrokerSender applies.
 */
import { createReadStream, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { putInOutbox } from '../../shared/brokerSend/outbox';
import { InvalidSendRequestError, parseSendRequest } from '../../shared/brokerSend/request';
import { containers, queues } from '../../shared/names';
import { exitCodes, storageOf, UsageError, type Command, parseCommandArgs } from '../cli';

const usage = `Usage:
  npm run aos -- broker send <file> --resource <resourceId> --recipient <orgnr> [--recipient <orgnr> ...]
                 [--name <file name the recipients see>] [--reference <your reference>]
                 [--property key=value ...] [--blob <name in broker-outbound>] [--json]
                 [--account <storage account>]
The file goes into container broker-outbound and a send request onto queue broker-send; BrokerSender sends
it and the status page (npm run aos -- status) follows it to every recipient's confirmed download.`;

function properties(values: string[] | undefined): Record<string, string> {
    const list: Record<string, string> = {};
    for (const pair of values ?? []) {
        const at = pair.indexOf('=');
        if (at < 1) throw new UsageError(`--property takes key=value, not "${pair}".`);
        list[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return list;
}

export const brokerCommand: Command = {
    usage,
    async run(args, io) {
        const { values, positionals } = parseCommandArgs(args, {
            resource: { type: 'string' },
            recipient: { type: 'string', multiple: true },
            name: { type: 'string' },
            reference: { type: 'string' },
            property: { type: 'string', multiple: true },
            blob: { type: 'string' },
            json: { type: 'boolean', default: false },
        });
        const [action, file, ...extra] = positionals;
        if (action !== 'send' || !file || extra.length > 0) {
            throw new UsageError(
                action && action !== 'send' ? `Unknown subcommand "${action}".` : 'broker send needs one file.',
            );
        }
        if (!values.resource) throw new UsageError('--resource is required.');
        if (!values.recipient?.length) throw new UsageError('--recipient is required (one per recipient).');
        const path = resolve(io.cwd, file);
        let size: number;
        try {
            const stat = statSync(path);
            if (!stat.isFile()) throw new Error('not a file');
            size = stat.size;
        } catch {
            io.err(`${file} is not a file that can be read.`);
            return exitCodes.refused;
        }
        const fileName = values.name ?? basename(path);
        const blob = values.blob ?? `${new Date().toISOString().slice(0, 10)}/${randomUUID()}/${fileName}`;
        const draft = {
            blob,
            resourceId: values.resource,
            recipients: values.recipient,
            fileName,
            ...(values.reference ? { sendersFileTransferReference: values.reference } : {}),
            ...(values.property?.length ? { propertyList: properties(values.property) } : {}),
        };
        try {
            parseSendRequest(draft);
        } catch (error) {
            if (error instanceof InvalidSendRequestError) throw new UsageError(`${error.detail}.`);
            throw error;
        }
        const storage = storageOf(values.account, io);
        const { md5 } = await putInOutbox(storage, blob, createReadStream(path));
        const request = { ...draft, checksum: md5 };
        await storage.enqueueCreating(queues.brokerSend, JSON.stringify(request));
        if (values.json) {
            io.out(JSON.stringify(request, null, 2));
        } else {
            io.out(`Put ${file} (${size} bytes, MD5 ${md5}) in ${containers.brokerOutbound}/${blob}`);
            io.out(
                `and its send request on queue ${queues.brokerSend}, to ${values.recipient.join(', ')} on ${values.resource}.`,
            );
            io.out(
                'Follow it: npm run aos -- status (Files sent through Broker), or npm run aos -- ledger show <fileTransferId>.',
            );
        }
        return exitCodes.done;
    },
};
