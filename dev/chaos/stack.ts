/**
 * One scenario's system: Azurite (child process, persisted to the scenario's folder), the Altinn
 * simulator (in this process) and the local Functions host (child process) running the app's real
 * functions, wired as in Azure: an Events subscription registered by dropping a file into
 * add-subscriptions, validated through the host's own webhook, and the catch-up on a fast schedule.
 */
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { containers } from '../../shared/names';
import { createStorage, type Storage } from '../../shared/storage';
import { dropSubscriptionFiles, subscriptionsValidated } from '../demo';
import { simulatorSettings, type DevClient } from '../devClient';
import { freePort } from '../ports';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator';
import { ChaosAzurite } from './azurite';
import { ChaosHost } from './host';

export const completedType = 'app.instance.process.completed';

export interface StackOptions {
    /** The scenario's folder: Azurite's data and the host's log. */
    workDir: string;
    client: DevClient;
    /** The app the instances belong to (org ttd). */
    app: string;
    /** App settings over the defaults below. */
    settings: Record<string, string>;
    simulator: SimulatorOptions;
}

export class ChaosStack {
    /** Hosts started beside the first (addHost), on the same storage, as Flex scales out. */
    readonly moreHosts: ChaosHost[] = [];

    private constructor(
        readonly azurite: ChaosAzurite,
        readonly sim: Simulator,
        readonly host: ChaosHost,
        readonly storage: Storage,
        readonly blobs: BlobServiceClient,
        readonly webhook: string,
        readonly settings: Record<string, string>,
        readonly workDir: string,
    ) {}

    static async start(options: StackOptions): Promise<ChaosStack> {
        const { client, app } = options;
        const azurite = await ChaosAzurite.create(join(options.workDir, 'azurite'));
        await azurite.start();
        let sim: Simulator | undefined;
        let host: ChaosHost | undefined;
        try {
            sim = await startSimulator({
                clients: [{ clientId: client.clientId, scopes: client.scopes, certificate: client.certificatePem }],
                ...options.simulator,
            });
            const port = await freePort();
            const webhook = `http://127.0.0.1:${port}/api/eventsreceiver?code=chaos`;
            const settings: Record<string, string> = {
                AzureWebJobsStorage: azurite.connectionString,
                ...simulatorSettings(sim, client),
                MaskinportenKid: '',
                FeedbackEventType: '',
                FeedbackDataType: '',
                BrokerResources: '',
                ProcessedEventTypes: completedType,
                CatchUpApps: `ttd/${app}`,
                CatchUpSchedule: '*/5 * * * * *',
                ReconcileSchedule: '0 0 0 1 1 *',
                CatchUpFrom: new Date(Date.now() - 60_000).toISOString(),
                SubscriptionsSchedule: '*/2 * * * * *',
                HttpTimeoutSeconds: '10',
                HttpRetryBudgetSeconds: '10',
                AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01',
                AzureFunctionsJobHost__extensions__queues__maxPollingInterval: '00:00:00.500',
                AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '5',
                ...options.settings,
            };
            host = new ChaosHost(port, settings, join(options.workDir, 'host.log'));
            await host.start();
            const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
            await dropSubscriptionFiles(blobs, {
                [`${app}.json`]: {
                    endPoint: webhook,
                    sourceFilter: `${sim.appsUrl}/ttd/${app}`,
                    typeFilter: completedType,
                },
            });
            await subscriptionsValidated(sim, webhook, 1, 60_000);
            const storage = createStorage({ AzureWebJobsStorage: azurite.connectionString });
            return new ChaosStack(azurite, sim, host, storage, blobs, webhook, settings, options.workDir);
        } catch (error) {
            await host?.stop().catch(() => undefined);
            await sim?.stop().catch(() => undefined);
            await azurite.stop().catch(() => undefined);
            throw error;
        }
    }

    inbound() {
        return this.blobs.getContainerClient(containers.inbound);
    }

    /** Another host with the same settings on the same Azurite and simulator; its webhook is `webhookOf(host)`. */
    async addHost(): Promise<ChaosHost> {
        const number = this.moreHosts.length + 2;
        const host = new ChaosHost(await freePort(), this.settings, join(this.workDir, `host-${number}.log`));
        this.moreHosts.push(host);
        await host.start();
        return host;
    }

    webhookOf(host: ChaosHost): string {
        const url = new URL(this.webhook);
        url.port = String(host.port);
        return url.toString();
    }

    async stop(): Promise<void> {
        await Promise.all(this.moreHosts.map((host) => host.stop().catch(() => undefined)));
        await this.host.stop().catch(() => undefined);
        await this.sim.stop().catch(() => undefined);
        await this.azurite.stop().catch(() => undefined);
    }
}
