/**
 * EventsCatchUp: on CatchUpSchedule, fetches the events of every app in CatchUpApps from the
 * Events query API and queues those not yet seen to events-inbound, so that a submission whose
 * webhook push was lost is still downloaded (shared/catchUp/catchUp.ts). An app that fails is
 * logged and fails the invocation after the other apps ran; the next schedule tries again.
 * Each app's run is recorded in the ledger for the status page.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { catchUpDeps, runCatchUp } from '../shared/catchUp';
import { ledgerOf, recordRun } from '../shared/ledger';
import { errorMessage } from '../shared/log';
import { getServices } from '../shared/services';

export async function eventsCatchUp(_timer: Timer, context: InvocationContext): Promise<void> {
    const services = getServices();
    if (services.config.catchUpApps.length === 0) return;
    const at = new Date();
    const results = await runCatchUp(catchUpDeps(services), context);
    // The last run per app, for the status page (a failed write is logged, never fails the run).
    for (const result of results) {
        await recordRun(ledgerOf(services.storage), context, {
            kind: 'catchup',
            subject: `${result.org}/${result.app}`,
            at,
            found: result.queued + result.skipped,
            queued: result.queued,
            error: result.stopped === 'error' ? errorMessage(result.error) : undefined,
        });
    }
    const failed = results.filter((result) => result.stopped === 'error');
    if (failed.length > 0) {
        throw new Error(
            `Catch-up failed for ${failed.map((r) => `${r.org}/${r.app}`).join(', ')} (see the catch-up lines above); the next schedule tries again`,
        );
    }
}

app.timer('EventsCatchUp', {
    schedule: '%CatchUpSchedule%',
    runOnStartup: false,
    handler: eventsCatchUp,
});
