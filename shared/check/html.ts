/**
 * The check report as one self-contained page for a browser (`GET /api/check` with Accept: text/html):
 * inline CSS, no script, every value escaped, failed and warning rows marked.
 */
import { htmlDocument } from '../htmlPage';
import { escapeHtml } from '../status/html';
import type { CheckReport, CheckResult } from './report';
import { formatDuration } from './text';

const style = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1b1b1b}
h1{font-size:1.5rem;margin:.5rem 0 0}header p{color:#555;margin:.2rem 0 1rem}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}
tr.failed td{background:#fdecea}tr.warning td{background:#fff8e1}
.todo{color:#444;margin-top:.2rem}
`;

function row(check: CheckResult): string {
    const todo = check.action ? `<div class="todo">What to do: ${escapeHtml(check.action)}</div>` : '';
    return `<tr class="${check.status}"><td>${check.status}</td><td>${escapeHtml(check.name)}</td><td class="num">${escapeHtml(formatDuration(check.durationMs))}</td><td>${escapeHtml(check.detail)}${todo}</td></tr>`;
}

export function renderCheckHtml(report: CheckReport): string {
    const { ok, warning, failed } = report.summary;
    const verdict = `${ok} ok, ${warning} warning(s), ${failed} failed, in ${formatDuration(report.durationMs)}`;
    return htmlDocument(
        'Check',
        style,
        `<header><h1>Altinn application owner system: deployment check</h1>
<p id="verdict">${escapeHtml(`${report.generatedAt}: ${verdict}`)}</p></header>
<table id="checks"><thead><tr><th scope="col">Status</th><th scope="col">Check</th><th scope="col">Took</th><th scope="col">Result</th></tr></thead><tbody>
${report.checks.map(row).join('\n')}
</tbody></table>`,
    );
}
