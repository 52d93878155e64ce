/**
 * BrokerProcessor: a file sent to the owner through Altinn 3 Broker. For each
 * `no.altinn.broker.published` event on broker-inbound that is ours, it downloads the file
 * (resumable, streaming) into container `broker`, writes filetransfer.json last and confirms the
 * download. A failure fails the invocation, so the queue retries and the next attempt resumes;
 * after the last attempt the message is in broker-inbound-poison with its error recorded.
 */
import { app, type InvocationContext } from '@azure/functions';
import { createBrokerClient, type BrokerClient } from '../shared/altinn/broker';
import { processBrokerMessage } from '../shared/broker/processor';
import { recordingFailures } from '../shared/failures';
import { queues, storageConnection } from '../shared/names';
import { getServices } from '../shared/services';
import { getStorage } from '../shared/storage';

let broker: BrokerClient | undefined;

export async function brokerProcessor(message: unknown, context: InvocationContext): Promise<void> {
    const { config, storage, altinn } = getServices();
    broker ??= createBrokerClient(altinn.http, config);
    await processBrokerMessage(message, { config, storage, broker, tokens: altinn.tokens }, context);
}

app.storageQueue('BrokerProcessor', {
    queueName: queues.brokerInbound,
    connection: storageConnection,
    // The last attempt's error is kept beside the poison message, for `npm run poison`.
    handler: recordingFailures(queues.brokerInbound, getStorage, brokerProcessor),
});
