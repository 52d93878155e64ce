/**
 * Status: `GET /api/status?code=<function key>` answers what the system received, what is waiting
 * and what is stuck (shared/status), as JSON, or as a self-contained HTML page for a browser
 * (`Accept: text/html`, or `?format=html`). `?id=<instance id | file transfer id>` answers what the
 * ledger knows of that one submission instead. It reads storage only, never Altinn.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { getConfig } from '../shared/config';
import { htmlPage, jsonAnswer, wantsHtml } from '../shared/htmlPage';
import { logStep } from '../shared/log';
import { problem } from '../shared/problem';
import { gatherStatus, isSubmissionId, renderStatusHtml, submissionStatus } from '../shared/status';
import { getStorage } from '../shared/storage';

async function oneSubmission(id: string, context: InvocationContext): Promise<HttpResponseInit> {
    if (!isSubmissionId(id)) {
        return problem(
            400,
            'Unknown id',
            'id must be an instance id {partyId}/{instanceGuid}, a GUID or a file transfer id.',
        );
    }
    const found = await submissionStatus(getStorage(), id);
    logStep(context, 'status', { id: found.id, entries: found.entries.length });
    if (found.entries.length === 0) {
        return problem(404, 'Not seen', `The ledger has no instance or Broker file ${found.id} (yet).`);
    }
    return jsonAnswer(found);
}

export async function status(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
    const id = request.query.get('id');
    if (id !== null) return oneSubmission(id, context);
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
    return html ? htmlPage(renderStatusHtml(report)) : jsonAnswer(report);
}

app.http('Status', {
    methods: ['GET'],
    authLevel: 'function',
    route: 'status',
    handler: status,
});
