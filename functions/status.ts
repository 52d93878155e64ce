/**
 * Status: `GET /api/status?code=<function key>` answers what the system received, what is waiting
 * and what is stuck (shared/status), as JSON, or as a self-contained HTML page for a browser
 * (`Accept: text/html`, or `?format=html`). It reads storage only, never Altinn.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getConfig } from '../shared/config';
import { logStep } from '../shared/log';
import { problem } from '../shared/problem';
import { gatherStatus, renderStatusHtml } from '../shared/status';
import { getStorage } from '../shared/storage';

/** The page has no script and loads nothing: say so to the browser, so that nothing injected could run. */
const pagePolicy =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function wantsHtml(request: HttpRequest): boolean | undefined {
    const format = request.query.get('format');
    if (format === 'html') return true;
    if (format === 'json') return false;
    if (format !== null) return undefined;
    return /\btext\/html\b/i.test(request.headers.get('accept') ?? '');
}

export async function status(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const html = wantsHtml(request);
    if (html === undefined) {
        return problem(400, 'Unknown format', 'format must be html or json (or leave it out and send Accept).');
    }
    const started = Date.now();
    const report = await gatherStatus({ config: getConfig(), storage: getStorage() });
    logStep(context, 'status', {
        format: html ? 'html' : 'json',
        attention: report.attention.length,
        unavailable: report.unavailable.length,
        durationMs: Date.now() - started,
    });
    if (html) {
        return {
            status: 200,
            headers: {
                'content-type': 'text/html; charset=utf-8',
                'content-security-policy': pagePolicy,
                'cache-control': 'no-store',
                'x-content-type-options': 'nosniff',
            },
            body: renderStatusHtml(report),
        };
    }
    return { status: 200, headers: { 'cache-control': 'no-store' }, jsonBody: report };
}

app.http('Status', {
    methods: ['GET'],
    authLevel: 'function',
    route: 'status',
    handler: status,
});
