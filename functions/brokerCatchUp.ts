/**
 * BrokerCatchUp: on the catch-up schedule, queues a synthetic published event for every Broker
 * file transfer on a configured resource that we have not confirmed yet, so that a lost webhook
 * never loses a file; and follows every transfer we sent that is not final yet, so that a lost
 * event never leaves a sent file's state behind. CatchUpEnabled=false turns both off, as it does EventsCatchUp.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { createBrokerClient, type BrokerClient } from '../shared/altinn/broker';
import { runBrokerCatchUp } from '../shared/broker/catchUp';
import { followOpenTransfers } from '../shared/brokerSend/catchUp';
import { timerSchedule } from '../shared/schedules';
import { getServices } from '../shared/services';

let broker: BrokerClient | undefined;

export async function brokerCatchUp(_timer: Timer, context: InvocationContext): Promise<void> {
    const { config, storage, altinn } = getServices();
    if (!config.recovery.catchUp) return;
    broker ??= createBrokerClient(altinn.http, config);
    // Each half runs whatever the other does; the first failure fails the run (and is logged by its half).
    const [sent, received] = await Promise.allSettled([
        followOpenTransfers({ storage, broker }, context),
        runBrokerCatchUp({ config, storage, broker, tokens: altinn.tokens }, context),
    ]);
    for (const half of [sent, received]) if (half.status === 'rejected') throw half.reason;
}

app.timer('BrokerCatchUp', {
    schedule: timerSchedule('CatchUpSchedule'),
    handler: brokerCatchUp,
});
