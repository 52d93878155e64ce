/**
 * BrokerCatchUp: on the catch-up schedule, queues a synthetic published event for every Broker
 * file transfer on a configured resource that we have not confirmed yet, so that a lost webhook
 * never loses a file. CatchUpEnabled=false turns it off, as it does EventsCatchUp.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { createBrokerClient, type BrokerClient } from '../shared/altinn/broker';
import { runBrokerCatchUp } from '../shared/broker/catchUp';
import { timerSchedule } from '../shared/schedules';
import { getServices } from '../shared/services';

let broker: BrokerClient | undefined;

export async function brokerCatchUp(_timer: Timer, context: InvocationContext): Promise<void> {
    const { config, storage, altinn } = getServices();
    if (!config.recovery.catchUp) return;
    broker ??= createBrokerClient(altinn.http, config);
    await runBrokerCatchUp({ config, storage, broker, tokens: altinn.tokens }, context);
}

app.timer('BrokerCatchUp', {
    schedule: timerSchedule('CatchUpSchedule'),
    handler: brokerCatchUp,
});
