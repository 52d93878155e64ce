/**
 * Storage connections for triggers and output bindings. A binding's `connection` names an app
 * setting holding a connection string (`AzureWebJobsStorage` when empty); like the host, the
 * name is also tried with the `AzureWebJobs` prefix. Identity-based connections
 * (`<name>__queueServiceUri`) are an Azure feature and are refused here with a clear message.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { HostStartupError } from './log';
import { getSetting, type Settings } from './settings';

export const defaultConnection = 'AzureWebJobsStorage';

// The SDK names each request with globalThis.crypto.randomUUID(), which Node builds on first use: the
// host's own first storage call would otherwise build it in the middle of the app's first invocation,
// or not, depending on which app was loaded (see httpServer.ts).
void globalThis.crypto;

/**
 * Listeners poll again anyway, so a storage call should fail fast rather than retry for
 * minutes; a few quick tries ride over Azurite restarts.
 */
const pipelineOptions = {
    retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000, tryTimeoutInMs: 60_000 },
};

export class StorageConnections {
    readonly #queueServices = new Map<string, QueueServiceClient>();
    readonly #blobServices = new Map<string, BlobServiceClient>();

    constructor(private readonly settings: Settings) {}

    /** The connection string a binding's `connection` refers to; throws naming function and setting. */
    connectionString(connection: unknown, functionName: string): string {
        const name = typeof connection === 'string' && connection.trim() !== '' ? connection.trim() : defaultConnection;
        const value = getSetting(this.settings, name) ?? getSetting(this.settings, `AzureWebJobs${name}`);
        if (value !== undefined && value.trim() !== '') return value.trim();
        const identityBased = Object.keys(this.settings).some((key) =>
            key.toLowerCase().startsWith(`${name.toLowerCase()}__`),
        );
        throw new HostStartupError(
            identityBased
                ? `Function '${functionName}': connection '${name}' is identity-based (${name}__...), which the local host does not support; set '${name}' to a connection string such as UseDevelopmentStorage=true.`
                : `Function '${functionName}': app setting '${name}' (its storage connection) is not set; set it to a connection string such as UseDevelopmentStorage=true.`,
        );
    }

    queueService(connectionString: string): QueueServiceClient {
        let client = this.#queueServices.get(connectionString);
        if (!client) {
            client = QueueServiceClient.fromConnectionString(connectionString, pipelineOptions);
            this.#queueServices.set(connectionString, client);
        }
        return client;
    }

    blobService(connectionString: string): BlobServiceClient {
        let client = this.#blobServices.get(connectionString);
        if (!client) {
            client = BlobServiceClient.fromConnectionString(connectionString, pipelineOptions);
            this.#blobServices.set(connectionString, client);
        }
        return client;
    }
}
