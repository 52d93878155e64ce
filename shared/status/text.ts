/** The status report as plain text for a terminal (`npm run aos -- status`): the page's sections, as lines. */
import { neverConfirmedWindowDays, notEndedWindowDays, notHandedOffHours, type StatusReport } from './report';

function when(iso: string | undefined): string {
    return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '-';
}

export function renderStatusText(report: StatusReport): string[] {
    const lines: string[] = [
        `Status at ${when(report.generatedAt)} (counts over the last ${report.windowHours} h)`,
        '',
    ];
    if (report.attention.length === 0) lines.push('All well: nothing needs attention.');
    else lines.push('Needs attention:', ...report.attention.map((note) => `  - ${note}`));

    for (const [title, scopes] of [
        ['Apps', report.apps],
        ['Broker resources', report.brokerResources],
    ] as const) {
        lines.push('', `${title}:`);
        if (scopes.length === 0) lines.push('  none configured or seen');
        for (const scope of scopes) {
            const oldest =
                scope.oldestUnconfirmedHours === undefined
                    ? ''
                    : `, oldest ${scope.oldestUnconfirmedHours} h (${scope.oldestUnconfirmedId ?? '?'})`;
            lines.push(
                `  ${scope.scope}: received ${scope.received}, stored ${scope.stored}, confirmed ${scope.confirmed}; not confirmed ${scope.unconfirmed}${oldest}; in poison ${scope.poisoned}`,
            );
        }
    }

    if (report.settled.length > 0) {
        lines.push('', 'Not confirmed, and not waiting (out of the counts above):');
        for (const row of report.settled) {
            lines.push(
                `  ${row.scope}: gone in Altinn (404) ${row.gone}, refused (AcceptedApps) ${row.refused}; latest ${row.latestId ?? '-'} at ${when(row.latestAt)}`,
            );
        }
    }

    if (report.neverConfirmedFiles.length > 0) {
        lines.push('', `Broker files purged without our confirmation (last ${neverConfirmedWindowDays} days):`);
        for (const file of report.neverConfirmedFiles) {
            lines.push(
                `  ${file.fileTransferId} (${file.resourceId}) at ${when(file.at)}: stored ${file.stored ? 'yes' : 'no'}, in poison ${file.poisoned ? 'yes' : 'no'}`,
            );
        }
    }

    lines.push('', `Confirmed more than ${notHandedOffHours} h ago, never handed off: ${report.notHandedOff.length}`);
    for (const row of report.notHandedOff) {
        lines.push(
            `  ${row.instanceId} (${row.app}) confirmed ${when(row.confirmedAt)}, ${row.hours} h ago${row.poisoned ? ', in poison' : ''}`,
        );
    }
    if (report.processNotEnded.length > 0) {
        lines.push('', `Not confirmed because the process had not ended (last ${notEndedWindowDays} days):`);
        for (const row of report.processNotEnded) {
            lines.push(
                `  ${row.instanceId} (${row.app}) at ${when(row.at)}: in ${row.task ?? '?'}, event ${row.eventId ?? '?'}`,
            );
        }
    }

    lines.push('', 'Runs:');
    if (report.runs.length === 0) lines.push('  none recorded');
    for (const run of report.runs) {
        const found = run.found === undefined ? '' : `found ${run.found}, `;
        lines.push(
            `  ${run.kind} ${run.subject} at ${when(run.at)}: ${found}queued ${run.queued}${run.error ? `; FAILED: ${run.error}` : ''}`,
        );
    }
    for (const cursor of report.catchUpCursors) {
        lines.push(`  catch-up cursor ${cursor.app}: moved ${when(cursor.updated)}, after ${cursor.after ?? '-'}`);
    }

    lines.push('', 'Poison queues (kept until replayed or dropped):');
    for (const queue of report.poisonQueues) lines.push(`  ${queue.poisonQueue}: ${queue.messages}`);

    const { active, failed, pending, checkedAt } = report.subscriptions;
    lines.push('', `Subscriptions (checked with Altinn ${checkedAt ? when(checkedAt) : 'not yet'}):`);
    for (const sub of active) {
        const state =
            sub.inAltinn === undefined
                ? 'not checked'
                : !sub.inAltinn
                  ? 'NOT IN ALTINN'
                  : sub.validated
                    ? 'validated'
                    : 'NOT VALIDATED';
        lines.push(`  active ${sub.name} (id ${sub.id ?? '?'}): ${state}${sub.problem ? `: ${sub.problem}` : ''}`);
    }
    for (const sub of failed)
        lines.push(`  refused ${sub.name} (${sub.operation ?? '?'}, ${when(sub.failedAt)}): ${sub.reason}`);
    for (const sub of pending) lines.push(`  waiting ${sub.operation} ${sub.name}`);
    if (active.length + failed.length + pending.length === 0) lines.push('  none');
    return lines;
}
