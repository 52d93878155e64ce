/**
 * The status report as one self-contained HTML page: inline CSS, no scripts, no external assets
 * (the function sends a Content-Security-Policy that forbids them), every value escaped. Rows that
 * need a person are marked, and the top of the page says in words what they are.
 */
import type {
    ActiveSubscriptionStatus,
    CatchUpCursorStatus,
    FailedSubscriptionStatus,
    NeverConfirmedFileStatus,
    NotEndedStatus,
    NotHandedOffStatus,
    PendingSubscriptionStatus,
    PoisonQueueStatus,
    RunStatus,
    ScopeStatus,
    SettledStatus,
    StatusReport,
} from './report';
import { neverConfirmedWindowDays, notEndedWindowDays, notHandedOffHours } from './report';
import { htmlDocument } from '../htmlPage';

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string | number | undefined): string {
    return String(value ?? '').replace(/[&<>"']/g, (char) => entities[char]);
}

/** 2026-12-01T02:43:44.123Z -> 2026-12-01 02:43 UTC */
function when(iso: string | undefined): string {
    if (!iso) return '–';
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function hours(value: number | undefined): string {
    if (value === undefined) return '–';
    return value < 1 ? `${Math.round(value * 60)} min` : `${value} h`;
}

const optional = (value: number | string | undefined): string => (value === undefined ? '–' : String(value));

interface Column<T> {
    head: string;
    cell: (row: T) => string | number | undefined;
    numeric?: boolean;
}

function table<T>(
    id: string,
    caption: string,
    columns: Column<T>[],
    rows: T[],
    bad: (row: T) => boolean,
    empty: string,
) {
    if (rows.length === 0) return `<p class="empty" id="${id}-empty">${escapeHtml(empty)}</p>`;
    const head = columns.map((column) => `<th scope="col">${escapeHtml(column.head)}</th>`).join('');
    const body = rows
        .map((row) => {
            const cells = columns
                .map(
                    (column) =>
                        `<td${column.numeric ? ' class="num"' : ''}>${escapeHtml(column.cell(row) ?? '–')}</td>`,
                )
                .join('');
            return `<tr${bad(row) ? ' class="bad"' : ''}>${cells}</tr>`;
        })
        .join('\n');
    return `<table id="${id}"><caption>${escapeHtml(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function scopeTable(
    id: string,
    caption: string,
    label: string,
    rows: ScopeStatus[],
    windowHours: number,
    empty: string,
) {
    return table<ScopeStatus>(
        id,
        caption,
        [
            { head: label, cell: (row) => row.scope },
            { head: `Received (${windowHours} h)`, cell: (row) => row.received, numeric: true },
            { head: `Stored (${windowHours} h)`, cell: (row) => row.stored, numeric: true },
            { head: `Confirmed (${windowHours} h)`, cell: (row) => row.confirmed, numeric: true },
            { head: 'Not confirmed', cell: (row) => row.unconfirmed, numeric: true },
            { head: 'Oldest not confirmed', cell: (row) => hours(row.oldestUnconfirmedHours) },
            { head: 'Oldest id', cell: (row) => row.oldestUnconfirmedId },
            { head: 'In poison', cell: (row) => row.poisoned, numeric: true },
        ],
        rows,
        (row) => row.poisoned > 0,
        empty,
    );
}

function settledTable(rows: SettledStatus[]) {
    return table<SettledStatus>(
        'settled',
        'Not confirmed, and not waiting: Altinn answered 404 (gone), or the app is not in AcceptedApps (refused, in poison)',
        [
            { head: 'App', cell: (row) => row.scope },
            { head: 'Gone (404)', cell: (row) => row.gone, numeric: true },
            { head: 'Refused', cell: (row) => row.refused, numeric: true },
            { head: 'Latest', cell: (row) => when(row.latestAt) },
            { head: 'Latest id', cell: (row) => row.latestId },
        ],
        rows,
        () => false,
        'No instance gone in Altinn or refused.',
    );
}

function neverConfirmedTable(files: NeverConfirmedFileStatus[]) {
    return table<NeverConfirmedFileStatus>(
        'broker-never-confirmed',
        `Files Broker purged without our confirmation (last ${neverConfirmedWindowDays} days)`,
        [
            { head: 'File transfer id', cell: (file) => file.fileTransferId },
            { head: 'Resource', cell: (file) => file.resourceId },
            { head: 'Expired in Broker', cell: (file) => when(file.at) },
            { head: 'Stored by us', cell: (file) => (file.stored ? 'yes' : 'no') },
            { head: 'In poison', cell: (file) => (file.poisoned ? 'yes' : 'no') },
        ],
        files,
        () => true,
        `No Broker file expired without our confirmation in the last ${neverConfirmedWindowDays} days.`,
    );
}

function notHandedOffTable(instances: NotHandedOffStatus[]) {
    return table<NotHandedOffStatus>(
        'not-handed-off',
        `Confirmed to Altinn more than ${notHandedOffHours} h ago and never handed off to instances-received (${instances.length})`,
        [
            { head: 'Instance', cell: (row) => row.instanceId },
            { head: 'App', cell: (row) => row.app },
            { head: 'Confirmed', cell: (row) => when(row.confirmedAt) },
            { head: 'Waiting', cell: (row) => hours(row.hours) },
            { head: 'In poison', cell: (row) => (row.poisoned ? 'yes' : 'no') },
        ],
        instances,
        () => true,
        `Every instance confirmed more than ${notHandedOffHours} h ago was handed off.`,
    );
}

function notEndedTable(instances: NotEndedStatus[]) {
    return table<NotEndedStatus>(
        'process-not-ended',
        `Not confirmed: the process had not ended (last ${notEndedWindowDays} days; catch-up and reconciliation confirm them once it ends)`,
        [
            { head: 'Instance', cell: (row) => row.instanceId },
            { head: 'App', cell: (row) => row.app },
            { head: 'Recorded', cell: (row) => when(row.at) },
            { head: 'Process was in', cell: (row) => row.task },
            { head: 'Event', cell: (row) => row.eventId },
        ],
        instances,
        () => true,
        `No completed event found a process not ended in the last ${notEndedWindowDays} days.`,
    );
}

function runsTable(runs: RunStatus[]) {
    return table<RunStatus>(
        'runs',
        'The last run per app or resource',
        [
            { head: 'Run', cell: (run) => (run.kind === 'reconciliation' ? 'Reconciliation' : 'Catch-up') },
            { head: 'App or resource', cell: (run) => run.subject },
            { head: 'Last run', cell: (run) => when(run.at) },
            { head: 'Found', cell: (run) => optional(run.found), numeric: true },
            { head: 'Queued', cell: (run) => run.queued, numeric: true },
            { head: 'Not confirmed in Altinn', cell: (run) => optional(run.unconfirmed), numeric: true },
            {
                head: 'Oldest not confirmed',
                cell: (run) => hours(run.unconfirmed ? run.oldestUnconfirmedHours : undefined),
            },
            { head: 'Result', cell: (run) => (run.error ? `Failed: ${run.error}` : 'OK') },
        ],
        runs,
        (run) => run.error !== undefined,
        'No reconciliation or catch-up run recorded yet.',
    );
}

function cursorsTable(cursors: CatchUpCursorStatus[]) {
    return table<CatchUpCursorStatus>(
        'catch-up-cursors',
        'Events catch-up cursors (aos-state/catch-up/)',
        [
            { head: 'App', cell: (cursor) => cursor.app },
            { head: 'Moved', cell: (cursor) => when(cursor.updated) },
            {
                head: 'After event',
                cell: (cursor) => cursor.after ?? (cursor.from ? `from ${when(cursor.from)}` : '–'),
            },
        ],
        cursors,
        () => false,
        'No catch-up cursor yet.',
    );
}

function poisonTable(queues: PoisonQueueStatus[]) {
    return table<PoisonQueueStatus>(
        'poison',
        "Messages that failed every attempt, or were refused: kept until replayed or dropped (PoisonKeeper keeps the host's 7-day copies)",
        [
            { head: 'Poison queue', cell: (queue) => queue.poisonQueue },
            { head: 'Messages (approximate)', cell: (queue) => queue.messages, numeric: true },
        ],
        queues,
        (queue) => queue.messages > 0,
        'The poison queues could not be read.',
    );
}

function validation(sub: ActiveSubscriptionStatus): string {
    if (sub.inAltinn === undefined) return 'not checked yet';
    if (!sub.inAltinn) return 'not in Altinn';
    return sub.validated ? 'validated' : 'not validated';
}

function subscriptionTables(report: StatusReport) {
    const { active, failed, pending, checkedAt, unknownToFiles } = report.subscriptions;
    const activeTable = table<ActiveSubscriptionStatus>(
        'subscriptions-active',
        'Active (active-subscriptions)',
        [
            { head: 'Name', cell: (sub) => sub.name },
            { head: 'Id', cell: (sub) => sub.id },
            { head: 'Filter', cell: (sub) => sub.filter },
            { head: 'Type', cell: (sub) => sub.typeFilter },
            { head: 'In Altinn', cell: validation },
            { head: 'Problem', cell: (sub) => sub.problem },
        ],
        active,
        (sub) => sub.problem !== undefined,
        'No active subscription.',
    );
    const failedTable = table<FailedSubscriptionStatus>(
        'subscriptions-failed',
        'Refused (failed-subscriptions)',
        [
            { head: 'Name', cell: (sub) => sub.name },
            { head: 'Operation', cell: (sub) => sub.operation },
            { head: 'Failed', cell: (sub) => when(sub.failedAt) },
            { head: 'Reason', cell: (sub) => sub.reason },
        ],
        failed,
        () => true,
        'No refused subscription request.',
    );
    const pendingTable = table<PendingSubscriptionStatus>(
        'subscriptions-pending',
        'Waiting to be picked up (add-subscriptions, remove-subscriptions)',
        [
            { head: 'Name', cell: (sub) => sub.name },
            { head: 'Operation', cell: (sub) => sub.operation },
        ],
        pending,
        () => false,
        'No request waiting.',
    );
    const checked = checkedAt
        ? `Checked with Altinn ${when(checkedAt)}.`
        : 'Not yet checked with Altinn (EventsSubscriber checks at most every 10 minutes).';
    const unknown =
        unknownToFiles.length > 0
            ? ` Altinn also has subscription(s) ${unknownToFiles.join(', ')} that no active-subscriptions file names.`
            : '';
    return `<p id="subscriptions-checked">${escapeHtml(checked + unknown)}</p>\n${activeTable}\n${failedTable}\n${pendingTable}`;
}

function attentionSection(report: StatusReport) {
    if (report.attention.length === 0) {
        return '<section id="attention" class="ok"><h2>All well</h2><p>Nothing needs attention.</p></section>';
    }
    const items = report.attention.map((note) => `<li>${escapeHtml(note)}</li>`).join('\n');
    return `<section id="attention" class="bad"><h2>Needs attention</h2><ul>\n${items}\n</ul></section>`;
}

const style = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1b1b1b;background:#fff}
h1{font-size:1.5rem;margin:.5rem 0 0}h2{font-size:1.15rem;margin:1.6rem 0 .4rem}
header p{color:#555;margin:.2rem 0 1rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem}
caption{text-align:left;color:#555;padding:.2rem 0}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f3f3f3;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td:first-child{white-space:nowrap}
tr.bad td{background:#fdecea}
#attention{border-radius:6px;padding:.2rem 1rem .6rem;margin-top:1rem}
#attention.ok{background:#e8f5e9;border:1px solid #a5d6a7}
#attention.bad{background:#fdecea;border:1px solid #f5a9a2}
.empty{color:#555;font-style:italic}
`;

export function renderStatusHtml(report: StatusReport): string {
    const sections = [
        attentionSection(report),
        `<section><h2>Apps</h2>${scopeTable('apps', 'Instances per app', 'App', report.apps, report.windowHours, 'No app configured or seen yet.')}\n${settledTable(report.settled)}\n${notHandedOffTable(report.notHandedOff)}\n${notEndedTable(report.processNotEnded)}</section>`,
        `<section><h2>Broker resources</h2>${scopeTable('broker', 'Files per Broker resource', 'Resource', report.brokerResources, report.windowHours, 'No Broker resource configured or seen yet.')}\n${neverConfirmedTable(report.neverConfirmedFiles)}</section>`,
        `<section><h2>Reconciliation and catch-up</h2>${runsTable(report.runs)}\n${cursorsTable(report.catchUpCursors)}</section>`,
        `<section><h2>Poison queues</h2>${poisonTable(report.poisonQueues)}</section>`,
        `<section><h2>Subscriptions</h2>${subscriptionTables(report)}</section>`,
    ];
    return htmlDocument(
        'Status',
        style,
        `<header><h1>Altinn application owner system: status</h1>
<p>${escapeHtml(`Generated ${when(report.generatedAt)}; received, stored and confirmed count the last ${report.windowHours} hours.`)}</p></header>
${sections.join('\n')}`,
    );
}
