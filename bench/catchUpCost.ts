/**
 * What each instance costs in Altinn requests with the catch-up on, in steady state: instances are
 * submitted, Altinn pushes each event to the webhook, and the catch-up (every 5 s) reads the same
 * events again from the Events query API, which answers only events registered at least 30 s
 * before (the simulator's default, as Events' getappevents SQL; see dev/simulator/README.md) once
 * the app has such events: the steady state, reached here with one instance submitted 30 s before
 * the measured ones. The target: at most one GET of the instance and one `complete` per instance,
 * however many copies of its event arrive. A stack of its own (Azurite, the simulator, the local
 * host with the catch-up on), so that nothing else counts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzuriteProcess } from '../dev/azurite';
import { ChaosHost } from '../dev/chaos/host';
import { dropSubscriptionFiles, subscriptionsValidated, until } from '../dev/demo';
import { ensureDevClient, simulatorSettings } from '../dev/devClient';
import { freePort, freePorts } from '../dev/ports';
import { startSimulator } from '../dev/simulator';
import { connectionStringFor } from '../dev/storageConnection';
import { queues } from '../shared/names';
import { createStorage } from '../shared/storage';

const app = 'bench-catchup';

/** A row of the bench table: figure, result, target. */
export async function catchUpCost(instances: number): Promise<string[]> {
    const dataDir = mkdtempSync(join(tmpdir(), 'aos-bench-catchup-'));
    const [blobPort, queuePort, tablePort] = await freePorts(3);
    const ports = { blobPort, queuePort, tablePort };
    const azurite = await startAzuriteProcess({ ...ports, location: join(dataDir, 'azurite') });
    const sim = await startSimulator({ timeScale: 0.01 });
    const storageConnection = connectionStringFor(ports);
    let host: ChaosHost | undefined;
    try {
        const client = ensureDevClient(dataDir);
        await sim.control.registerClient({
            clientId: client.clientId,
            scopes: client.scopes,
            certificate: client.certificatePem,
        });
        const port = await freePort();
        host = new ChaosHost(
            port,
            {
                AzureWebJobsStorage: storageConnection,
                ...simulatorSettings(sim, client),
                CatchUpApps: `ttd/${app}`,
                CatchUpSchedule: '*/5 * * * * *',
                CatchUpFrom: new Date(Date.now() - 60_000).toISOString(),
                SubscriptionsSchedule: '*/2 * * * * *',
                ReconcileSchedule: '0 0 0 1 1 *',
                BrokerResources: '',
                AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.100',
            },
            join(dataDir, 'host.log'),
        );
        await host.start();
        const webhook = `${host.url}/api/eventsreceiver?code=bench`;
        await dropSubscriptionFiles(BlobServiceClient.fromConnectionString(storageConnection), {
            'bench-catchup.json': {
                endPoint: webhook,
                sourceFilter: `${sim.appsUrl}/ttd/${app}`,
                typeFilter: 'app.instance.process.completed',
            },
        });
        await subscriptionsValidated(sim, webhook, 1, 60_000);

        const submit = (i: number) =>
            sim.control.createInstance({
                app,
                process: 'completed',
                publish: true,
                dataElements: [
                    { dataType: 'model', contentType: 'application/xml', size: 2048, seed: `c${i}a` },
                    { dataType: 'vedlegg', contentType: 'application/pdf', size: 8192, seed: `c${i}b` },
                ],
            });
        const confirmed = (ids: string[]) => {
            const { completes } = sim.counters();
            return ids.every((id) => (completes[id] ?? 0) > 0) || undefined;
        };
        const warmUp = await submit(-1);
        await until('the warm-up instance confirmed', 60_000, () => Promise.resolve(confirmed([warmUp.id])));
        await new Promise((resolve) => setTimeout(resolve, 31_000));

        const dataRequests = () => Object.values(sim.counters().requests['storage.getData'] ?? {});
        const downloadsBefore = dataRequests().reduce((total, n) => total + n, 0);
        // Submitted at an even pace, so that the catch-up reads events while others still arrive.
        const ids: string[] = [];
        for (let i = 0; i < instances; i++) {
            ids.push((await submit(i)).id);
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await until(`${instances} instances confirmed`, 10 * 60_000, () => Promise.resolve(confirmed(ids)));
        // Every event read again by the catch-up, and every copy taken off the queue.
        const inbound = createStorage({ AzureWebJobsStorage: storageConnection }).queue(queues.eventsInbound);
        const catchUpCopies = () =>
            host!
                .matching(/step=catch-up .*queued=\d+/)
                .reduce((total, line) => total + Number(/queued=(\d+)/.exec(line)?.[1] ?? 0), 0);
        await until('the catch-up to read every event again', 5 * 60_000, async () => {
            const waiting = (await inbound.getProperties()).approximateMessagesCount ?? 0;
            return catchUpCopies() >= instances + 1 && waiting === 0 ? true : undefined;
        });

        const { instanceReads, completes, requests } = sim.counters();
        const reads = ids.map((id) => instanceReads[id] ?? 0);
        const confirms = ids.map((id) => completes[id] ?? 0);
        const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
        const downloads = (sum(Object.values(requests['storage.getData'] ?? {})) - downloadsBefore) / instances;
        const ok = Math.max(...reads) <= 1 && Math.max(...confirms) <= 1;
        console.log(
            `catch-up: ${instances} instances pushed to the webhook; the catch-up (every 5 s) queued ${catchUpCopies() - 1} copies of their events`,
        );
        return [
            'Altinn requests, catch-up on',
            `per instance: GET instance ${(sum(reads) / instances).toFixed(2)} (at most ${Math.max(...reads)}), complete ${(sum(confirms) / instances).toFixed(2)} (at most ${Math.max(...confirms)}), data ${downloads.toFixed(2)} (2 elements); ${instances} instances, each event by webhook and catch-up`,
            ok ? 'ok (≤ 1 GET, ≤ 1 complete)' : 'OVER (> 1 GET or complete)',
        ];
    } finally {
        await host?.stop();
        await sim.stop();
        await azurite.stop();
        rmSync(dataDir, { recursive: true, force: true });
    }
}
