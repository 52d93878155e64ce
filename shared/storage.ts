/**
 * The one place that knows how to reach storage: the connection (a connection string locally,
 * managed identity in Azure), queue message encoding and container names.
 */
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { QueueServiceClient, RestError, type QueueClient } from '@azure/storage-queue';
import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import { ConfigError, isLoopbackHost } from './config';
import { storageConnection, type ContainerName, type TableName } from './names';

type Env = Record<string, string | undefined>;

/**
 * Fail fast rather than hang: the receiver must answer Altinn (45 s timeout) with a 503 when
 * storage is down, and queue-triggered work is retried by the queue anyway.
 */
const pipelineOptions = {
    retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2_000, tryTimeoutInMs: 30_000 },
} satisfies StoragePipelineOptions;

/** The same fail-fast budget for tables (a ledger write must never hold a stage up for long). */
const tableOptions = {
    retryOptions: { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
} satisfies TableServiceClientOptions;

/** Makes the client of one table, from the same connection as blobs and queues. */
export type TableClientFactory = (name: TableName) => TableClient;

/**
 * The clients of one storage account. Each service's client is made at first use: the webhook only
 * queues, so its first answer does not wait for the blob and table SDKs to load (in the deployment
 * package they are loaded at first use, dev/package/deferred.ts).
 */
export class Storage {
    readonly #queues = new Map<string, QueueClient>();
    readonly #tables = new Map<string, TableClient>();
    #blobService: BlobServiceClient | undefined;
    #queueService: QueueServiceClient | undefined;

    constructor(
        private readonly blobServiceFor: () => BlobServiceClient,
        private readonly queueServiceFor: () => QueueServiceClient,
        readonly tableClientFor: TableClientFactory,
    ) {}

    get blobService(): BlobServiceClient {
        return (this.#blobService ??= this.blobServiceFor());
    }

    get queueService(): QueueServiceClient {
        return (this.#queueService ??= this.queueServiceFor());
    }

    table(name: TableName): TableClient {
        let client = this.#tables.get(name);
        if (!client) {
            client = this.tableClientFor(name);
            this.#tables.set(name, client);
        }
        return client;
    }

    queue(name: string): QueueClient {
        let client = this.#queues.get(name);
        if (!client) {
            client = this.queueService.getQueueClient(name);
            this.#queues.set(name, client);
        }
        return client;
    }

    container(name: ContainerName): ContainerClient {
        return this.blobService.getContainerClient(name);
    }

    /**
     * Queues a JSON message base64-encoded, as the Functions host expects by default
     * (host.json messageEncoding "base64"), and resolves only once storage has accepted it.
     * With `visibleAfterSeconds` the message stays invisible that long (a delayed retry that is
     * not a failed attempt: its dequeue count starts again at zero). `neverExpires` sets the
     * time-to-live to -1 instead of storage's default of 7 days. Resolves with the message id.
     */
    async enqueue(
        queueName: string,
        message: unknown,
        options: { visibleAfterSeconds?: number; neverExpires?: boolean } = {},
    ): Promise<string> {
        const text = typeof message === 'string' ? message : JSON.stringify(message);
        const sent = await this.queue(queueName).sendMessage(encodeQueueMessage(text), {
            visibilityTimeout: options.visibleAfterSeconds,
            messageTimeToLive: options.neverExpires ? -1 : undefined,
        });
        return sent.messageId;
    }

    /**
     * enqueue, creating the queue when it is missing: Bicep provisions every queue in Azure, but a
     * fresh local Azurite has only those the host listens on.
     */
    async enqueueCreating(
        queueName: string,
        message: unknown,
        options: { neverExpires?: boolean } = {},
    ): Promise<string> {
        try {
            return await this.enqueue(queueName, message, options);
        } catch (error) {
            if (!(error instanceof RestError && error.statusCode === 404)) throw error;
            await this.queue(queueName).createIfNotExists();
            return this.enqueue(queueName, message, options);
        }
    }
}

/** The largest text whose base64 form fits in a 64 KiB storage queue message. */
export const maxQueuedTextBytes = (64 * 1024 * 3) / 4;

export function encodeQueueMessage(text: string): string {
    return Buffer.from(text, 'utf8').toString('base64');
}

export function decodeQueueMessage(messageText: string): string {
    return Buffer.from(messageText, 'base64').toString('utf8');
}

/**
 * Whether the connection string's endpoint is plain http on this machine (Azurite). The blob and
 * queue SDKs allow that by themselves; the tables SDK refuses http unless told.
 */
function plainHttpOnLoopback(connectionString: string, endpoint: string): boolean {
    const value = new RegExp(`(?:^|;)\\s*${endpoint}=([^;]+)`, 'i').exec(connectionString)?.[1];
    if (!value) return false;
    try {
        const url = new URL(value.trim());
        return url.protocol === 'http:' && isLoopbackHost(url.hostname);
    } catch {
        return false;
    }
}

function credentialFor(env: Env, prefix: string): TokenCredential {
    const clientId = env[`${prefix}__clientId`];
    if (env[`${prefix}__credential`] === 'managedidentity') {
        return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
    }
    return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}

/** Builds clients from the same setting the triggers use, in either of its two forms. */
export function createStorage(env: Env = process.env, connection = storageConnection): Storage {
    const connectionString = env[connection]?.trim();
    if (connectionString) {
        return new Storage(
            () => BlobServiceClient.fromConnectionString(connectionString, pipelineOptions),
            () => QueueServiceClient.fromConnectionString(connectionString, pipelineOptions),
            (table) =>
                TableClient.fromConnectionString(connectionString, table, {
                    ...tableOptions,
                    allowInsecureConnection: plainHttpOnLoopback(connectionString, 'TableEndpoint'),
                }),
        );
    }
    const accountName = env[`${connection}__accountName`];
    const blobUri =
        env[`${connection}__blobServiceUri`] ?? (accountName && `https://${accountName}.blob.core.windows.net`);
    const queueUri =
        env[`${connection}__queueServiceUri`] ?? (accountName && `https://${accountName}.queue.core.windows.net`);
    const tableUri =
        env[`${connection}__tableServiceUri`] ?? (accountName && `https://${accountName}.table.core.windows.net`);
    if (!blobUri || !queueUri) {
        throw new ConfigError(
            connection,
            `is required: a connection string, or identity-based ${connection}__blobServiceUri and ${connection}__queueServiceUri`,
        );
    }
    let credential: TokenCredential | undefined;
    const sharedCredential = (): TokenCredential => (credential ??= credentialFor(env, connection));
    return new Storage(
        () => new BlobServiceClient(blobUri, sharedCredential(), pipelineOptions),
        () => new QueueServiceClient(queueUri, sharedCredential(), pipelineOptions),
        (table) => {
            if (!tableUri) {
                throw new ConfigError(
                    `${connection}__tableServiceUri`,
                    'is required for the ledger (identity-based table access), or set __accountName',
                );
            }
            return new TableClient(tableUri, table, sharedCredential(), tableOptions);
        },
    );
}

let shared: Storage | undefined;

export function getStorage(): Storage {
    shared ??= createStorage();
    return shared;
}
