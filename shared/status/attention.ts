/** The sentences at the top of the status: what a person should look at, derived from the rest of the report. */
import type { StatusReport } from './report';

/** An instance normally goes from first seen to confirmed in minutes; after this it is worth a look. */
export const unconfirmedAttentionHours = 1;

export function attentionOf(report: Omit<StatusReport, 'attention'>): string[] {
    const notes: string[] = [];
    for (const { poisonQueue, messages } of report.poisonQueues) {
        if (messages > 0) notes.push(`${messages} message(s) in ${poisonQueue}: see npm run aos -- poison list`);
    }
    for (const scope of [...report.apps, ...report.brokerResources]) {
        if (scope.poisoned > 0) {
            notes.push(`${scope.scope}: ${scope.poisoned} in a poison queue, not confirmed`);
        }
        if ((scope.oldestUnconfirmedHours ?? 0) >= unconfirmedAttentionHours) {
            notes.push(
                `${scope.scope}: ${scope.unconfirmed} not confirmed, the oldest (${scope.oldestUnconfirmedId ?? '?'}) for ${scope.oldestUnconfirmedHours} h`,
            );
        }
    }
    for (const file of report.neverConfirmedFiles) {
        notes.push(
            `Broker file ${file.fileTransferId} (${file.resourceId}) expired in Broker at ${file.at} without our confirmation: ${file.stored ? 'it is stored in container broker, only the confirmation failed' : 'it was never stored (see broker-inbound-poison) and Broker no longer has it: ask the sender to send it again'}`,
        );
    }
    if (report.notHandedOff.length > 0) {
        const [oldest] = report.notHandedOff;
        notes.push(
            `${report.notHandedOff.length} instance(s) confirmed to Altinn but never handed off to instances-received, the oldest (${oldest.instanceId}) confirmed ${oldest.hours} h ago: see npm run aos -- ledger not-handed-off and events-confirmation-poison`,
        );
    }
    for (const instance of report.processNotEnded) {
        notes.push(
            `Instance ${instance.instanceId} (${instance.app}): a completed event or feedback found its process not ended (${instance.task ?? '?'}) at ${instance.at}; nothing was confirmed, catch-up and reconciliation confirm it once it ends`,
        );
    }
    for (const run of report.runs) {
        if (run.error) notes.push(`The last ${run.kind} run of ${run.subject} failed: ${run.error}`);
    }
    for (const failed of report.subscriptions.failed) {
        notes.push(`Subscription request ${failed.name} was refused: ${failed.reason}`);
    }
    for (const active of report.subscriptions.active) {
        if (active.problem) notes.push(`Subscription ${active.name}: ${active.problem}`);
    }
    notes.push(...(report.recovery?.warnings ?? []));
    for (const { part, error } of report.unavailable) notes.push(`Could not read ${part}: ${error}`);
    return notes;
}
