/**
 * Writes queue output bindings (`output.storageQueue`, as `return` or in `extraOutputs`) after a
 * successful invocation, encoded per host.json messageEncoding like the host's own binding.
 * A failed write fails the invocation, as in the host, so the trigger is retried.
 */
import type { RpcInvocationResponse, RpcTypedData } from './coreTypes';
import type { QueueOutputSpec } from './functions';
import type { MessageEncoding } from './hostJson';
import { encodeMessage, outputMessages } from './queueMessages';
import type { StorageConnections } from './storage';

const returnBindingName = '$return';

export class QueueOutputWriter {
    /** Queues already created (or found) in this process; the host creates missing output queues. */
    readonly #created = new Set<string>();

    constructor(
        private readonly storage: StorageConnections,
        private readonly encoding: MessageEncoding,
    ) {}

    async writeAll(outputs: readonly QueueOutputSpec[], response: RpcInvocationResponse): Promise<void> {
        for (const output of outputs) {
            const data =
                output.bindingName === returnBindingName
                    ? response.returnValue
                    : response.outputData?.find((binding) => binding.name === output.bindingName)?.data;
            await this.write(output, data);
        }
    }

    async write(output: QueueOutputSpec, data: RpcTypedData | null | undefined): Promise<void> {
        const messages = outputMessages(data);
        if (messages.length === 0) return;
        const queue = this.storage.queueService(output.connectionString).getQueueClient(output.queueName);
        const key = `${output.connectionString}\n${output.queueName}`;
        if (!this.#created.has(key)) {
            await queue.createIfNotExists();
            this.#created.add(key);
        }
        for (const message of messages) {
            await queue.sendMessage(encodeMessage(message, this.encoding));
        }
    }
}
