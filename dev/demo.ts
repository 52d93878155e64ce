/**
 * The `npm start` demo: register the webhook through the subscription containers, submit a few
 * instances and send a Broker file, let Broker purge a second file before it could be confirmed,
 * then report what ended up where.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { ledgerOf } from '../shared/ledger';
import { containers } from '../shared/names';
import { createStorage } from '../shared/storage';
import { demoFormXml, demoPdf } from './demoContent';
import { runSendDemo } from './demoSend';
import type { CreatedInstance, Simulator } from './simulator';

export interface DemoOptions {
    sim: Simulator;
    webhook: string;
    storageConnection: string;
    say: (line: string) => void;
    instances?: number;
    timeoutMs?: number;
}

const app = 'demo-app';
const brokerResource = 'ttd-demo-broker';
const applicants = ['Kari Nordmann', 'Ola Nordmann', 'Åse Ødegård'];

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const result = await probe();
        if (result !== undefined) return result;
        if (Date.now() > deadline) throw new Error(`demo: timed out after ${timeoutMs / 1000} s waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
    }
}

/** Drops subscription requests into add-subscriptions, as an operator would from Storage Explorer. */
export async function dropSubscriptionFiles(blobs: BlobServiceClient, requests: Record<string, object>): Promise<void> {
    const add = blobs.getContainerClient(containers.addSubscriptions);
    await add.createIfNotExists();
    for (const [name, request] of Object.entries(requests)) {
        const text = JSON.stringify(request, null, 2);
        await add.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
    }
}

/** Resolves once Altinn (the simulator) holds `count` validated subscriptions to the webhook. */
export function subscriptionsValidated(sim: Simulator, webhook: string, count: number, timeoutMs: number) {
    return until(`${count} subscription(s) to be registered and validated through the webhook`, timeoutMs, async () => {
        const subscriptions = await sim.control.listSubscriptions();
        const validated = subscriptions.filter((s) => s.validated && s.endPoint === webhook);
        return validated.length >= count ? validated : undefined;
    });
}

export async function runDemo(options: DemoOptions): Promise<void> {
    const { sim, webhook, say } = options;
    const timeoutMs = options.timeoutMs ?? 90_000;
    const count = options.instances ?? 3;
    const { org, orgNumber } = await sim.control.info();
    const blobs = BlobServiceClient.fromConnectionString(options.storageConnection);

    const requests = {
        [`${app}.json`]: {
            endPoint: webhook,
            sourceFilter: `${sim.appsUrl}/${org}/${app}`,
            typeFilter: 'app.instance.process.completed',
        },
        // No typeFilter: Altinn matches types exactly, and besides published the system needs
        // fileneverconfirmeddownloaded (as docs/examples/broker-subscription.json).
        'demo-broker.json': {
            endPoint: webhook,
            resourceFilter: `urn:altinn:resource:${brokerResource}`,
            subjectFilter: `urn:altinn:organization:identifier-no:${orgNumber}`,
        },
    };
    await dropSubscriptionFiles(blobs, requests);
    for (const name of Object.keys(requests)) say(`demo: dropped ${containers.addSubscriptions}/${name}`);
    await subscriptionsValidated(sim, webhook, 2, timeoutMs);
    say('demo: subscriptions registered in Altinn and validated; see container active-subscriptions');

    const created: CreatedInstance[] = [];
    for (let i = 0; i < count; i++) {
        const applicant = applicants[i % applicants.length];
        created.push(
            await sim.control.createInstance({
                app,
                process: 'completed',
                publish: true,
                partyName: applicant,
                dataElements: [
                    {
                        dataType: 'model',
                        contentType: 'application/xml',
                        filename: 'soknad.xml',
                        content: demoFormXml(applicant, i + 1),
                    },
                    {
                        dataType: 'vedlegg',
                        contentType: 'application/pdf',
                        filename: `kvittering ${i + 1} – ${applicant}.pdf`,
                        content: demoPdf(`Kvittering ${i + 1} for ${applicant}`).toString('base64'),
                        encoding: 'base64',
                    },
                ],
            }),
        );
        say(`demo: ${applicant} submitted instance ${created[i].id}; Altinn publishes app.instance.process.completed`);
    }
    const transfer = await sim.control.createFileTransfer({
        resourceId: brokerResource,
        fileName: 'årsrapport-2026.csv',
        content: 'kommune;innbyggere\nOslo;717710\nTromsø;78745\n',
        recipients: [orgNumber],
    });
    say(`demo: a Broker file transfer ${transfer.fileTransferId} was published to ${orgNumber}`);

    await until('every instance to be stored and confirmed', timeoutMs, async () => {
        const instances = await Promise.all(created.map((c) => sim.control.getInstance(c.id)));
        const confirmed = instances.filter(
            (i) => Array.isArray(i.completeConfirmations) && i.completeConfirmations.length > 0,
        );
        return confirmed.length === created.length ? confirmed : undefined;
    });
    await until('the Broker file to be downloaded and confirmed', timeoutMs, async () => {
        const transfers = await sim.control.listFileTransfers();
        const ours = transfers.find((t) => t.fileTransferId === transfer.fileTransferId) as
            { recipients?: { currentRecipientFileTransferStatusCode?: string }[] } | undefined;
        return ours?.recipients?.some((r) => r.currentRecipientFileTransferStatusCode === 'DownloadConfirmed')
            ? ours
            : undefined;
    });

    // Sending: one file to two organisations, followed to both confirmations.
    await runSendDemo({
        sim,
        storageConnection: options.storageConnection,
        resourceId: brokerResource,
        say,
        until,
        timeoutMs,
    });

    await showNeverConfirmed(options, brokerResource, orgNumber, timeoutMs);

    say('demo: done. What was stored where:');
    for (const containerName of [containers.inbound, containers.broker, containers.brokerOutbound]) {
        for await (const blob of blobs.getContainerClient(containerName).listBlobsFlat()) {
            say(
                `  ${containerName}/${blob.name}  (${blob.properties.contentLength ?? 0} bytes, ${blob.properties.contentType ?? ''})`,
            );
        }
    }
    say(`demo: Altinn received complete for ${created.length} instances and confirmdownload for the Broker file`);
}

/**
 * A Broker file that expires before this system could confirm it: the simulator purges it at once
 * (as Broker does at a transfer's expiry), Broker sends `no.altinn.broker.fileneverconfirmeddownloaded`,
 * and the Broker subscription, having no typeFilter, delivers it: the ledger and the status page list it.
 */
async function showNeverConfirmed(
    { sim, say, storageConnection, webhook }: DemoOptions,
    resourceId: string,
    orgNumber: string,
    timeoutMs: number,
): Promise<void> {
    const since = new Date(Date.now() - 60_000);
    // Not pushed as published, and purged at once: nothing can download and confirm it first.
    const { fileTransferId } = await sim.control.createFileTransfer({
        resourceId,
        fileName: 'for-sent.txt',
        content: 'Broker purged this before anyone downloaded it.\n',
        recipients: [orgNumber],
        deliver: false,
    });
    await sim.control.expireFileTransfer(fileTransferId);
    say(`demo: Broker purged file transfer ${fileTransferId} at its expiry before we confirmed it`);
    const ledger = ledgerOf(createStorage({ AzureWebJobsStorage: storageConnection }));
    await until('the never-confirmed Broker file in the ledger', timeoutMs, async () => {
        const files = await ledger.listNeverConfirmed(since);
        return files.some((file) => file.id === fileTransferId) ? files : undefined;
    });
    say(
        `demo: no.altinn.broker.fileneverconfirmeddownloaded for ${fileTransferId} reached the webhook through demo-broker.json (no typeFilter); ` +
            `the status page lists it under "Needs attention": ${new URL('/api/status', webhook).href}`,
    );
}
