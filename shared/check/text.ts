/** The check report as a table for a terminal (`aos check`): one line per check, what to do under each that is not ok. */
import type { CheckReport } from './report';

export function formatDuration(ms: number): string {
    return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function renderCheckTable(report: CheckReport): string[] {
    const nameWidth = Math.max(5, ...report.checks.map((check) => check.name.length));
    const tookWidth = Math.max(4, ...report.checks.map((check) => formatDuration(check.durationMs).length));
    const indent = ' '.repeat(9 + nameWidth + 2 + tookWidth + 2);
    const lines = [`${'status'.padEnd(9)}${'check'.padEnd(nameWidth)}  ${'took'.padStart(tookWidth)}  result`];
    for (const check of report.checks) {
        const took = formatDuration(check.durationMs).padStart(tookWidth);
        lines.push(`${check.status.padEnd(9)}${check.name.padEnd(nameWidth)}  ${took}  ${check.detail}`);
        if (check.action) lines.push(`${indent}what to do: ${check.action}`);
    }
    const { ok, warning, failed } = report.summary;
    lines.push('', `${ok} ok, ${warning} warning(s), ${failed} failed, in ${formatDuration(report.durationMs)}`);
    return lines;
}
