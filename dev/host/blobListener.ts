/**
 * The blob trigger, by container scan (the host's LogsAndContainerScan mode; an EventGrid-source
 * trigger is served the same way locally, since Azurite raises no events):
 * - lists the container every few seconds and fires once per blob version (name + ETag) that
 *   matches the path pattern, including blobs that were there before start, as the host does;
 * - records each handled version as a blob receipt in `azure-webjobs-hosts`
 *   (`blobreceipts/<hostId>/Host.Functions.<name>/<etag>/<container>/<blob>`), so a restart does
 *   not fire again for an unchanged blob;
 * - on failure retries after visibilityTimeout, and after poisonBlobThreshold attempts (default
 *   maxDequeueCount) writes the host's message to `webjobs-blobtrigger-poison` and stops
 *   retrying that version.
 */
import { randomUUID } from 'node:crypto';
import type { BlobItem, ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { matchBlobName } from './blobPath';
import type { RpcTypedData } from './coreTypes';
import type { BlobTriggerSpec, FunctionDefinition } from './functions';
import type { MessageEncoding } from './hostJson';
import type { Invoker } from './invoker';
import { errorMessage, type HostLog } from './log';
import { encodeMessage } from './queueMessages';
import { Sleeper } from './sleeper';
import type { StorageConnections } from './storage';

export const receiptsContainer = 'azure-webjobs-hosts';
export const blobPoisonQueue = 'webjobs-blobtrigger-poison';

export interface BlobListenerOptions {
    readonly pollingIntervalMs: number;
    readonly poisonBlobThreshold: number;
    readonly maxDegreeOfParallelism: number;
    readonly retryDelayMs: number;
    readonly messageEncoding: MessageEncoding;
    /** Names the receipts, like the host id does in Azure; stable per app root. */
    readonly hostId: string;
}

export class BlobListener {
    readonly #container: ContainerClient;
    readonly #receipts: ContainerClient;
    readonly #poisonQueue: QueueClient;
    readonly #sleeper = new Sleeper();
    /** Blob name -> ETag of the version already handled. */
    readonly #handled = new Map<string, string>();
    /** `name\netag` -> failed attempts so far and when to try again. */
    readonly #failures = new Map<string, { count: number; retryAt: number }>();
    readonly #running = new Map<string, Promise<void>>();
    #receiptsReady = false;
    #stopped = false;
    #loop: Promise<void> | undefined;
    #lastError: string | undefined;

    constructor(
        private readonly fn: FunctionDefinition,
        private readonly spec: BlobTriggerSpec,
        private readonly options: BlobListenerOptions,
        storage: StorageConnections,
        private readonly invoker: Invoker,
        private readonly log: HostLog,
    ) {
        const blobService = storage.blobService(spec.connectionString);
        this.#container = blobService.getContainerClient(spec.pattern.container);
        this.#receipts = blobService.getContainerClient(receiptsContainer);
        this.#poisonQueue = storage.queueService(spec.connectionString).getQueueClient(blobPoisonQueue);
    }

    /** Starts scanning (again, after a stop: the scan is a singleton whose lock may come back). */
    start(): void {
        this.#stopped = false;
        this.#loop = this.poll();
    }

    async stop(timeoutMs: number): Promise<void> {
        this.#stopped = true;
        this.#sleeper.wake();
        await this.#loop;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
            Promise.allSettled([...this.#running.values()]),
            new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
    }

    private async poll(): Promise<void> {
        while (!this.#stopped) {
            try {
                await this.scan();
                this.#lastError = undefined;
            } catch (error) {
                this.reportError('scanning failed', error);
            }
            await this.#sleeper.sleep(this.options.pollingIntervalMs);
        }
    }

    private async scan(): Promise<void> {
        const pattern = this.spec.pattern;
        const listing = this.#container.listBlobsFlat({ prefix: pattern.prefix || undefined, includeMetadata: true });
        try {
            for await (const blob of listing) {
                if (this.#stopped) return;
                if (this.#running.size >= this.options.maxDegreeOfParallelism) return;
                const etag = blob.properties.etag ?? '';
                const key = `${blob.name}\n${etag}`;
                if (this.#handled.get(blob.name) === etag || this.#running.has(key)) continue;
                const params = matchBlobName(pattern, blob.name);
                if (!params) continue;
                const failure = this.#failures.get(key);
                if (failure && failure.retryAt > Date.now()) continue;
                if (!failure && (await this.receipt(blob.name, etag).exists())) {
                    this.#handled.set(blob.name, etag);
                    continue;
                }
                const run = this.process(blob, etag, params).finally(() => this.#running.delete(key));
                this.#running.set(key, run);
            }
        } catch (error) {
            if (isNotFound(error)) {
                // The container does not exist yet: nothing to trigger on (the host does not create it either).
                return;
            }
            throw error;
        }
    }

    private async process(blob: BlobItem, etag: string, params: Record<string, string>): Promise<void> {
        const key = `${blob.name}\n${etag}`;
        const blobClient = this.#container.getBlobClient(blob.name);
        let content: Buffer;
        try {
            content = await blobClient.downloadToBuffer(0, undefined, { conditions: { ifMatch: etag } });
        } catch (error) {
            // Changed or deleted since it was listed: the next scan sees the new version, if any.
            if (isNotFound(error) || statusOf(error) === 412) return;
            this.reportError(`reading '${blob.name}' failed`, error);
            return;
        }
        const path = `${this.spec.pattern.container}/${blob.name}`;
        const outcome = await this.invoker.invoke(this.fn, {
            reason: `New blob detected(${this.spec.source}): ${path}`,
            inputData: [{ name: this.fn.triggerBindingName, data: { bytes: content } }],
            triggerMetadata: this.triggerMetadata(blob, blobClient.url, path, params),
        });
        try {
            if (outcome.succeeded) {
                await this.writeReceipt(blob.name, etag);
                return;
            }
            const attempts = (this.#failures.get(key)?.count ?? 0) + 1;
            if (attempts < this.options.poisonBlobThreshold) {
                this.#failures.set(key, { count: attempts, retryAt: Date.now() + this.options.retryDelayMs });
                return;
            }
            this.log.line(
                `Blob '${path}' will be skipped for function '${this.fn.name}' because this blob with ETag '${etag}' has failed the maximum number of times (${attempts}). Moving it to queue '${blobPoisonQueue}'.`,
            );
            await this.#poisonQueue.createIfNotExists();
            const poisonMessage = JSON.stringify({
                Type: 'BlobTrigger',
                FunctionId: `Host.Functions.${this.fn.name}`,
                BlobType: blob.properties.blobType ?? 'BlockBlob',
                ContainerName: this.spec.pattern.container,
                BlobName: blob.name,
                ETag: etag,
            });
            await this.#poisonQueue.sendMessage(encodeMessage(poisonMessage, this.options.messageEncoding));
            await this.writeReceipt(blob.name, etag);
        } catch (error) {
            this.reportError(`recording the outcome for '${blob.name}' failed`, error);
        }
    }

    private async writeReceipt(blobName: string, etag: string): Promise<void> {
        if (!this.#receiptsReady) {
            await this.#receipts.createIfNotExists();
            this.#receiptsReady = true;
        }
        await this.receipt(blobName, etag).upload('', 0);
        this.#handled.set(blobName, etag);
        this.#failures.delete(`${blobName}\n${etag}`);
    }

    private receipt(blobName: string, etag: string) {
        const functionId = `Host.Functions.${this.fn.name}`;
        const receiptName = `blobreceipts/${this.options.hostId}/${functionId}/${etag.replace(/"/g, '')}/${this.spec.pattern.container}/${blobName}`;
        return this.#receipts.getBlockBlobClient(receiptName);
    }

    /** Metadata as the host sends it (PascalCase; the library camel-cases keys and nested keys). */
    private triggerMetadata(
        blob: BlobItem,
        uri: string,
        path: string,
        params: Record<string, string>,
    ): Record<string, RpcTypedData> {
        const props = blob.properties;
        const metadata: Record<string, RpcTypedData> = {
            BlobTrigger: { string: path },
            Uri: { string: uri },
            Properties: {
                json: JSON.stringify({
                    BlobType: props.blobType,
                    ContentType: props.contentType,
                    ContentEncoding: props.contentEncoding,
                    ContentLanguage: props.contentLanguage,
                    ContentDisposition: props.contentDisposition,
                    CacheControl: props.cacheControl,
                    ContentLength: props.contentLength,
                    ContentMD5: props.contentMD5 ? Buffer.from(props.contentMD5).toString('base64') : undefined,
                    ETag: props.etag,
                    CreatedOn: props.createdOn?.toISOString(),
                    LastModified: props.lastModified.toISOString(),
                }),
            },
            Metadata: { json: JSON.stringify(blob.metadata ?? {}) },
            sys: {
                json: JSON.stringify({
                    MethodName: this.fn.name,
                    UtcNow: new Date().toISOString(),
                    RandGuid: randomUUID(),
                }),
            },
        };
        for (const [name, value] of Object.entries(params)) metadata[name] = { string: value };
        return metadata;
    }

    private reportError(what: string, error: unknown): void {
        const message = `Blob listener for function '${this.fn.name}': ${what}: ${errorMessage(error)}`;
        if (message === this.#lastError) return;
        this.#lastError = message;
        this.log.line(message);
    }
}

function statusOf(error: unknown): number | undefined {
    return typeof error === 'object' && error !== null && 'statusCode' in error && typeof error.statusCode === 'number'
        ? error.statusCode
        : undefined;
}

function isNotFound(error: unknown): boolean {
    return statusOf(error) === 404;
}
