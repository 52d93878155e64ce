/**
 * Check: `GET /api/check?code=<function key>` runs every deployment check (shared/check) as this
 * app, with its own settings and identity, and answers the report as JSON, or as a page for a
 * browser (`Accept: text/html`, or `?format=html`). It answers 200 whatever the checks found: the
 * report says what failed. Apart from probes in the system's own storage, which it deletes, it reads only.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { renderCheckHtml, runChecks } from '../shared/check';
import { htmlPage, jsonAnswer, wantsHtml } from '../shared/htmlPage';
import { logStep, warnStep } from '../shared/log';
import { problem } from '../shared/problem';
import { getStorage } from '../shared/storage';

/** Where Altinn reaches this app: the address it was called on, and its default host name in Azure. */
function ownOrigins(request: HttpRequest): string[] {
    const origins = [new URL(request.url).origin];
    const host = process.env.WEBSITE_HOSTNAME;
    if (host) origins.push(`https://${host}`);
    return origins;
}

export async function check(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const html = wantsHtml(request);
    if (html === undefined) {
        return problem(400, 'Unknown format', 'format must be html or json (or leave it out and send Accept).');
    }
    const report = await runChecks({ env: process.env, storage: getStorage, origins: ownOrigins(request) });
    logStep(context, 'check', { ...report.summary, durationMs: report.durationMs });
    for (const failed of report.checks.filter((result) => result.status === 'failed')) {
        warnStep(context, 'check-failed', { check: failed.name, detail: failed.detail, action: failed.action });
    }
    return html ? htmlPage(renderCheckHtml(report)) : jsonAnswer(report);
}

app.http('Check', {
    methods: ['GET'],
    authLevel: 'function',
    route: 'check',
    handler: check,
});
