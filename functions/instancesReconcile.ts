/**
 * InstancesReconcile: on ReconcileSchedule (unless ReconcileEnabled is false), asks Altinn Storage
 * for every instance of the apps in ReconcileApps that is complete (or, with feedback, waits in the
 * feedback task) and not confirmed by the owner, and queues each the ledger does not show on its way
 * to events-inbound as the event Altinn would have pushed, so that a submission no event brought is
 * still stored and confirmed (shared/reconcile/reconcile.ts, requeue.ts). An app that fails is logged and fails the invocation
 * after the other apps ran; the next schedule tries again.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { reconcileDeps, runReconcile } from '../shared/reconcile';
import { getServices } from '../shared/services';
import { timerSchedule } from '../shared/schedules';

export async function instancesReconcile(_timer: Timer, context: InvocationContext): Promise<void> {
    const services = getServices();
    if (!services.config.recovery.reconcile || services.config.reconcileApps.length === 0) return;
    const results = await runReconcile(reconcileDeps(services), context);
    const failed = results.filter((result) => result.error !== undefined);
    if (failed.length > 0) {
        throw new Error(
            `Reconciliation failed for ${failed.map((r) => `${r.org}/${r.app}`).join(', ')} (see the reconcile-failed lines above); the next schedule tries again`,
        );
    }
}

app.timer('InstancesReconcile', {
    schedule: timerSchedule('ReconcileSchedule'),
    runOnStartup: false,
    handler: instancesReconcile,
});
