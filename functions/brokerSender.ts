/**
 * BrokerSender: a file the owner sends through Altinn 3 Broker. For each send request on
 * broker-send (a file in broker-outbound, its resource and recipients), it initializes a Broker file
 * transfer, records its id, streams the file to Broker and follows the transfer from there
 * (shared/brokerSend). A failure fails the invocation, so the queue retries (never creating a second
 * transfer for the request); after the last attempt the request is in broker-send-poison with its
 * error recorded.
 */
import { app, type InvocationContext } from '@azure/functions';
import { createBrokerClient, type BrokerClient } from '../shared/altinn/broker';
import { processSendRequest } from '../shared/brokerSend/sender';
import { recordingFailures } from '../shared/failures';
import { queues, storageConnection } from '../shared/names';
import { getServices } from '../shared/services';
import { getStorage } from '../shared/storage';

let broker: BrokerClient | undefined;

export async function brokerSender(message: unknown, context: InvocationContext): Promise<void> {
    const { config, storage, altinn } = getServices();
    broker ??= createBrokerClient(altinn.http, config);
    await processSendRequest(message, { config, storage, broker, tokens: altinn.tokens }, context);
}

app.storageQueue('BrokerSender', {
    queueName: queues.brokerSend,
    connection: storageConnection,
    handler: recordingFailures(queues.brokerSend, getStorage, brokerSender),
});
