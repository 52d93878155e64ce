/**
 * HandoffWatch: on HandoffWatchSchedule (every 15 minutes by default), logs how long the oldest
 * hand-off message has waited on instances-received (step=handoff-waiting), so that the
 * handoff-waiting alert fires when the case systems stop taking them. It reads the queue only.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { handoffWaiting } from '../shared/handoff/watch';
import { logStep } from '../shared/log';
import { timerSchedule } from '../shared/schedules';
import { getStorage } from '../shared/storage';

export async function handoffWatch(_timer: Timer, context: InvocationContext): Promise<void> {
    const waiting = await handoffWaiting(getStorage());
    if (!waiting) return;
    logStep(context, 'handoff-waiting', {
        queue: waiting.queue,
        messages: waiting.messages,
        oldestHours: waiting.oldestHours,
    });
}

app.timer('HandoffWatch', {
    schedule: timerSchedule('HandoffWatchSchedule'),
    runOnStartup: false,
    handler: handoffWatch,
});
