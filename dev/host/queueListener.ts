/**
 * The queue trigger, following the Storage extension's documented behaviour (host.json
 * `extensions.queues`):
 * - polls with exponential backoff from 100 ms up to maxPollingInterval while the queue is
 *   empty, and goes back to the minimum as soon as a message arrives;
 * - receives up to batchSize messages, and fetches the next batch once the messages in flight
 *   drop to newBatchThreshold, so at most batchSize + newBatchThreshold run at once;
 * - keeps a message invisible while its function runs (10 minutes, renewed halfway);
 * - deletes it on success; on failure makes it visible again after visibilityTimeout, or, at
 *   maxDequeueCount, copies the message text unchanged to `<queue>-poison` and deletes it.
 * A message that is not valid base64 (with messageEncoding base64) counts as a failed attempt
 * without invoking the function, so it ends in the poison queue like in the host. A message
 * received with a dequeueCount above maxDequeueCount (its earlier runs never settled, e.g. the
 * process died) goes to poison without another run.
 */
import { randomUUID } from 'node:crypto';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import type { RpcTypedData } from './coreTypes';
import type { FunctionDefinition, QueueTriggerSpec } from './functions';
import type { QueueOptions } from './hostJson';
import type { Invoker } from './invoker';
import { errorMessage, type HostLog } from './log';
import { decodeMessage } from './queueMessages';
import type { StorageConnections } from './storage';
import { Sleeper } from './sleeper';

/**
 * The host's warning when it moves a message to the poison queue, word for word as the Storage
 * extension writes it (azure-sdk-for-net, sdk/storage/Microsoft.Azure.WebJobs.Extensions.Storage.Queues,
 * QueueProcessor.CopyMessageToPoisonQueueAsync): the poison alert (infra/app/alerts.bicep) matches it.
 */
export function poisonMoveLine(maxDequeueCount: number, poisonQueueName: string): string {
    return `Message has reached MaxDequeueCount of ${maxDequeueCount}. Moving message to queue '${poisonQueueName}'.`;
}

const minPollingIntervalMs = 100;
/** How long a received message stays invisible while its function runs. */
const runningVisibilitySeconds = 600;
const renewEveryMs = (runningVisibilitySeconds * 1000) / 2;

export class QueueListener {
    readonly #queue: QueueClient;
    readonly #poisonQueue: QueueClient;
    readonly #sleeper = new Sleeper();
    readonly #processing = new Set<Promise<void>>();
    #stopped = false;
    #loop: Promise<void> | undefined;
    #lastError: string | undefined;

    constructor(
        private readonly fn: FunctionDefinition,
        private readonly spec: QueueTriggerSpec,
        private readonly options: QueueOptions,
        storage: StorageConnections,
        private readonly invoker: Invoker,
        private readonly log: HostLog,
    ) {
        const service = storage.queueService(spec.connectionString);
        this.#queue = service.getQueueClient(spec.queueName);
        this.#poisonQueue = service.getQueueClient(`${spec.queueName}-poison`);
    }

    /** Creates the queue if it is missing (as the host does) and starts polling. */
    async start(): Promise<void> {
        await this.#queue.createIfNotExists();
        this.#loop = this.poll();
    }

    /** Stops fetching; resolves once the messages already taken are settled or the timeout passes. */
    async stop(timeoutMs: number): Promise<void> {
        this.#stopped = true;
        this.#sleeper.wake();
        await this.#loop;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
            Promise.allSettled([...this.#processing]),
            new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
        ]);
        clearTimeout(timer);
    }

    private async poll(): Promise<void> {
        const { batchSize, newBatchThreshold, maxPollingIntervalMs } = this.options;
        const minDelay = Math.min(minPollingIntervalMs, maxPollingIntervalMs);
        let delay = minDelay;
        while (!this.#stopped) {
            if (this.#processing.size > newBatchThreshold) {
                // Wait for a message to finish (process() wakes the sleeper) before fetching more.
                await this.#sleeper.sleep(maxPollingIntervalMs);
                continue;
            }
            let messages: DequeuedMessageItem[];
            try {
                const response = await this.#queue.receiveMessages({
                    numberOfMessages: batchSize,
                    visibilityTimeout: runningVisibilitySeconds,
                });
                messages = response.receivedMessageItems;
                this.#lastError = undefined;
            } catch (error) {
                this.reportError(`receiving from '${this.spec.queueName}' failed`, error);
                await this.#sleeper.sleep(maxPollingIntervalMs);
                continue;
            }
            if (messages.length === 0) {
                await this.#sleeper.sleep(delay);
                delay = Math.min(delay * 2, maxPollingIntervalMs);
                continue;
            }
            delay = minDelay;
            for (const message of messages) {
                const processing = this.process(message).finally(() => {
                    this.#processing.delete(processing);
                    this.#sleeper.wake();
                });
                this.#processing.add(processing);
            }
        }
    }

    private async process(message: DequeuedMessageItem): Promise<void> {
        const lease = { popReceipt: message.popReceipt };
        const renewal = setInterval(() => void this.renew(message, lease), renewEveryMs);
        try {
            // Dequeued more often than allowed without being settled (the process died while it ran, e.g.
            // a message that crashes the worker): the host moves it to poison before invoking again.
            if (message.dequeueCount > this.options.maxDequeueCount) {
                clearInterval(renewal);
                await this.fail(message, lease.popReceipt);
                return;
            }
            const decoded = decodeMessage(message.messageText, this.options.messageEncoding);
            let succeeded: boolean;
            if (!decoded.ok) {
                this.log.line(
                    `Message decoding has failed for message '${message.messageId}' on queue '${this.spec.queueName}': ${decoded.reason}. It counts as a failed attempt.`,
                );
                succeeded = false;
            } else {
                const outcome = await this.invoker.invoke(this.fn, {
                    reason: `New queue message detected on '${this.spec.queueName}'.`,
                    details: `Trigger Details: MessageId: ${message.messageId}, DequeueCount: ${message.dequeueCount}, InsertedOn: ${message.insertedOn.toISOString()}`,
                    inputData: [{ name: this.fn.triggerBindingName, data: { string: decoded.text } }],
                    triggerMetadata: this.triggerMetadata(message, decoded.text),
                });
                succeeded = outcome.succeeded;
            }
            clearInterval(renewal);
            if (succeeded) {
                await this.#queue.deleteMessage(message.messageId, lease.popReceipt);
            } else {
                await this.fail(message, lease.popReceipt);
            }
        } catch (error) {
            // Settling failed (storage down, or the lease was lost): the message reappears by itself.
            this.reportError(`settling message '${message.messageId}' failed`, error);
        } finally {
            clearInterval(renewal);
        }
    }

    private async fail(message: DequeuedMessageItem, popReceipt: string): Promise<void> {
        const { maxDequeueCount, visibilityTimeoutMs } = this.options;
        if (message.dequeueCount >= maxDequeueCount) {
            const poisonName = `${this.spec.queueName}-poison`;
            this.log.line(poisonMoveLine(maxDequeueCount, poisonName));
            await this.#poisonQueue.createIfNotExists();
            await this.#poisonQueue.sendMessage(message.messageText);
            await this.#queue.deleteMessage(message.messageId, popReceipt);
            return;
        }
        // Storage counts visibility in whole seconds; round up so the delay is never shorter than configured.
        await this.#queue.updateMessage(
            message.messageId,
            popReceipt,
            undefined,
            Math.ceil(visibilityTimeoutMs / 1000),
        );
    }

    /** Extends the invisibility of a long-running message; the new pop receipt is needed to settle it. */
    private async renew(message: DequeuedMessageItem, lease: { popReceipt: string }): Promise<void> {
        try {
            const response = await this.#queue.updateMessage(
                message.messageId,
                lease.popReceipt,
                undefined,
                runningVisibilitySeconds,
            );
            if (response.popReceipt) lease.popReceipt = response.popReceipt;
        } catch (error) {
            this.reportError(`renewing the visibility of message '${message.messageId}' failed`, error);
        }
    }

    /**
     * Trigger metadata as the host sends it (PascalCase; the library camel-cases it). Like the
     * host, the top-level properties of a JSON object message are added too and win over the
     * message's own keys (azure-functions-nodejs-library#459), so `triggerMetadata.id` is the
     * payload's id when the payload has one, in Azure and here.
     */
    private triggerMetadata(message: DequeuedMessageItem, text: string): Record<string, RpcTypedData> {
        const metadata: Record<string, RpcTypedData> = {
            QueueTrigger: { string: text },
            DequeueCount: { int: message.dequeueCount },
            ExpirationTime: { json: JSON.stringify(message.expiresOn.toISOString()) },
            Id: { string: message.messageId },
            InsertionTime: { json: JSON.stringify(message.insertedOn.toISOString()) },
            NextVisibleTime: { json: JSON.stringify(message.nextVisibleOn.toISOString()) },
            PopReceipt: { string: message.popReceipt },
            sys: {
                json: JSON.stringify({
                    MethodName: this.fn.name,
                    UtcNow: new Date().toISOString(),
                    RandGuid: randomUUID(),
                }),
            },
        };
        let payload: unknown;
        try {
            payload = JSON.parse(text);
        } catch {
            return metadata;
        }
        if (typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
            for (const [key, value] of Object.entries(payload as Record<string, unknown>)) {
                for (const existing of Object.keys(metadata)) {
                    if (existing.toLowerCase() === key.toLowerCase()) delete metadata[existing];
                }
                metadata[key] = typeof value === 'string' ? { string: value } : { json: JSON.stringify(value) };
            }
        }
        return metadata;
    }

    private reportError(what: string, error: unknown): void {
        const message = `Queue listener for function '${this.fn.name}': ${what}: ${errorMessage(error)}`;
        // Log a repeating failure (e.g. storage down) once, not on every poll.
        if (message === this.#lastError) return;
        this.#lastError = message;
        this.log.line(message);
    }
}
