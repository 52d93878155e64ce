/**
 * EventsCatchUp: on CatchUpSchedule (unless CatchUpEnabled is false), fetches the events of every app in CatchUpApps from the
 * Events query API and queues those not yet seen to events-inbound, so that a submission whose
 * webhook push was lost is still downloaded (shared/catchUp/catchUp.ts). An app that fails is
 * logged and fails the invocation after the other apps ran; the next schedule tries again.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { catchUpDeps, runCatchUp } from '../shared/catchUp';
import { timerSchedule } from '../shared/schedules';
import { getServices } from '../shared/services';

export async function eventsCatchUp(_timer: Timer, context: InvocationContext): Promise<void> {
    const services = getServices();
    if (!services.config.recovery.catchUp || services.config.catchUpApps.length === 0) return;
    const results = await runCatchUp(catchUpDeps(services), context);
    const failed = results.filter((result) => result.stopped === 'error');
    if (failed.length > 0) {
        throw new Error(
            `Catch-up failed for ${failed.map((r) => `${r.org}/${r.app}`).join(', ')} (see the catch-up lines above); the next schedule tries again`,
        );
    }
}

app.timer('EventsCatchUp', {
    schedule: timerSchedule('CatchUpSchedule'),
    runOnStartup: false,
    handler: eventsCatchUp,
});
