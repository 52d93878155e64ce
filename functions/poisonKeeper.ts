/**
 * PoisonKeeper: on PoisonKeeperSchedule (every 30 minutes by default), adds every message the
 * Functions host moved to a poison queue again without expiry and deletes the host's copy, which
 * storage would otherwise expire after 7 days (shared/poisonKeeper.ts). Nothing that failed
 * vanishes: the messages stay listed and replayable by `aos poison`. It needs storage only.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { keepPoison } from '../shared/poisonKeeper';
import { timerSchedule } from '../shared/schedules';
import { getStorage } from '../shared/storage';

export async function poisonKeeper(_timer: Timer, context: InvocationContext): Promise<void> {
    await keepPoison(getStorage(), context);
}

app.timer('PoisonKeeper', {
    schedule: timerSchedule('PoisonKeeperSchedule'),
    runOnStartup: false,
    handler: poisonKeeper,
});
