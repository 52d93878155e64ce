/**
 * The sending part of the `npm start` demo: the owner sends a decision to two organisations
 * through Broker, as a case system would (the file into broker-outbound, a send request on
 * broker-send), and the demo shows its lifecycle as the ledger records it, from the transfer's
 * initialization to both recipients' confirmed downloads, and the message back on broker-sent.
 * The recipients' own systems are the simulator's (its control API downloads and confirms for them).
 */
import { Readable } from 'node:stream';
import { putInOutbox } from '../shared/brokerSend/outbox';
import { listSentSince, ledgerOf, sentProgress } from '../shared/ledger';
import { queues } from '../shared/names';
import { createStorage, decodeQueueMessage } from '../shared/storage';
import { demoPdf } from './demoContent';
import type { Simulator } from './simulator';

/** Two organisations that receive on the demo resource (the simulator grants every organisation access). */
const recipients = ['910753614', '991825827'];

export interface SendDemoOptions {
    sim: Simulator;
    storageConnection: string;
    resourceId: string;
    say: (line: string) => void;
    /** Waits as the demo does (demo.ts `until`). */
    until: <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) => Promise<T>;
    timeoutMs: number;
}

export async function runSendDemo(options: SendDemoOptions): Promise<void> {
    const { sim, say, until, timeoutMs, resourceId } = options;
    const storage = createStorage({ AzureWebJobsStorage: options.storageConnection });
    const startedAt = new Date();
    // A name of its own per run: npm start keeps Azurite's data from one run to the next.
    const blob = `demo/${startedAt.toISOString().replace(/[:.]/g, '-')}/vedtak-2026-17.pdf`;
    const { md5, size } = await putInOutbox(storage, blob, Readable.from([demoPdf('Vedtak i sak 2026/17')]));
    await storage.enqueueCreating(
        queues.brokerSend,
        JSON.stringify({
            blob,
            resourceId,
            recipients,
            sendersFileTransferReference: 'sak-2026-17',
            propertyList: { saksnummer: '2026/17' },
            checksum: md5,
        }),
    );
    say(
        `demo: the owner sends broker-outbound/${blob} (${size} bytes) to ${recipients.join(' and ')} (queue ${queues.brokerSend})`,
    );

    const ledger = ledgerOf(storage);
    let shown = '';
    const follow = (want: (progress: string) => boolean, what: string) =>
        until(what, timeoutMs, async () => {
            const entry = (await listSentSince(ledger, startedAt)).find((e) => e.sent?.blob === blob);
            if (!entry?.sent) return undefined;
            const progress = sentProgress(entry.sent);
            if (progress !== shown) {
                shown = progress;
                say(`demo: sent file ${entry.id}: ${progress}`);
            }
            return want(progress) ? entry : undefined;
        });
    const published = await follow((p) => p.startsWith('published'), 'the sent file to be published in Broker');
    for (const recipient of recipients) {
        await sim.control.recipientConfirms(published.id, recipient);
        say(
            `demo: recipient ${recipient} downloads the file and confirms (Broker tells the sender: downloadconfirmed)`,
        );
        await follow(
            (p) => p.endsWith(`confirmed ${recipients.indexOf(recipient) + 1}/${recipients.length}`),
            `${recipient}'s confirmation`,
        );
    }
    await until('the message back to the case systems', timeoutMs, async () => {
        const queue = storage.queue(queues.brokerSent);
        if (!(await queue.exists())) return undefined;
        const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
        const message = peekedMessageItems
            .map(
                (item) =>
                    JSON.parse(decodeQueueMessage(item.messageText)) as { fileTransferId?: string; state?: string },
            )
            .find((m) => m.fileTransferId === published.id);
        if (message) say(`demo: ${queues.brokerSent} tells the case systems: ${published.id} ${message.state}`);
        return message;
    });
}
