import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventsConfirmation } from '../../../functions/eventsConfirmation';
import { createEventsFeedback } from '../../../functions/eventsFeedback';
import { createEventsProcessor } from '../../../functions/eventsProcessor';
import { type CreatedInstance } from '../../../dev/simulator/types';
import {
    defaultTemplatePath,
    feedbackValues,
    InstanceNotStoredError,
    parseInstanceSource,
    renderFeedback,
} from '../../../shared/instances';
import { instanceSubject, ledgerOf } from '../../../shared/ledger';
import { queues } from '../../../shared/names';
import type { Services } from '../../../shared/services';
import { eventOf, fieldsOf, startHarness, steps, type Harness } from './harness';

/* Feedback after a task event: upload, process/next, confirmation; and every way a repeat must change nothing twice. */

jest.setTimeout(60_000);

const taskEvent = 'app.instance.process.movedTo.Task_2';
let h: Harness;
let templateDir: string;
let processor: ReturnType<typeof createEventsProcessor>;
let feedback: ReturnType<typeof createEventsFeedback>;
let confirmation: ReturnType<typeof createEventsConfirmation>;

beforeAll(async () => {
    h = await startHarness({ FeedbackEventType: taskEvent, FeedbackDataType: 'feedback' });
    processor = createEventsProcessor(() => h.services);
    feedback = createEventsFeedback(() => h.services);
    confirmation = createEventsConfirmation(() => h.services);
    templateDir = mkdtempSync(join(tmpdir(), 'feedback-'));
});

afterAll(async () => {
    rmSync(templateDir, { recursive: true, force: true });
    await h?.stop();
});

beforeEach(async () => {
    await h.sim.control.reset();
    await h.clearQueues();
});

/** The feedback data type restricts content types, as an app's applicationmetadata.json may. */
function createInTask(
    tasks = ['Task_1', 'Task_2'],
    process = 'Task_2',
    feedbackTypes = ['application/xml', 'text/xml'],
    validationIssues?: { severity: number; code: string; description: string; source: string }[],
): Promise<CreatedInstance> {
    return h.sim.control.createInstance({
        app: 'fb-app',
        process,
        tasks,
        dataTypes: [
            { id: 'model', form: true },
            { id: 'feedback', allowedContentTypes: feedbackTypes },
        ],
        ...(validationIssues ? { validationIssues } : {}),
        publish: [taskEvent],
        dataElements: [{ dataType: 'model', contentType: 'application/xml', filename: 'form.xml', content: '<form/>' }],
    });
}

/** The processor stores the instance and hands the task event to events-feedback. */
async function stored(created: CreatedInstance): Promise<void> {
    await h.enqueue(eventOf(created, taskEvent));
    const run = await h.deliver(queues.eventsInbound, processor);
    expect(run.error).toBeUndefined();
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    expect(await h.peek(queues.eventsFeedback)).toHaveLength(1);
}

async function expectedFeedback(created: CreatedInstance, template: string): Promise<Buffer> {
    const props = await h.container.getBlobClient(`ttd/fb-app/${created.instanceGuid}/instance.json`).getProperties();
    const ref = parseInstanceSource(created.url, h.sim.appsUrl);
    return Buffer.from(renderFeedback(template, feedbackValues(ref, props.metadata!.storedat)), 'utf8');
}

function sha256(data: Buffer): string {
    return createHash('sha256').update(data).digest('hex');
}

async function feedbackElements(created: CreatedInstance) {
    const instance = await h.sim.control.getInstance(created.id);
    return (instance.data as { id: string; dataType: string; [k: string]: unknown }[]).filter(
        (d) => d.dataType === 'feedback',
    );
}

test('a task event: stored, feedback uploaded from the built-in template, process moved on, confirmed once', async () => {
    const created = await createInTask();
    await stored(created);

    const run = await h.deliver(queues.eventsFeedback, feedback);
    expect(run.error).toBeUndefined();
    const counters = h.sim.counters();
    expect(counters.requests['apps.postData']).toEqual({ '201': 1 });
    expect(counters.requests['apps.processNext']).toEqual({ '200': 1 });

    const [element] = await feedbackElements(created);
    expect(element).toMatchObject({
        contentType: 'application/xml',
        filename: 'feedback.xml',
        createdBy: '405003309',
    });
    const xml = await expectedFeedback(created, readFileSync(defaultTemplatePath(), 'utf8'));
    expect(xml.toString()).toContain(`<instanceId>${created.id}</instanceId>`);
    expect(xml.toString()).not.toMatch(/\{\{/);
    expect(await h.sim.control.contentDigest(element.id)).toMatchObject({ size: xml.length, sha256: sha256(xml) });
    const instance = await h.sim.control.getInstance(created.id);
    expect((instance.process as { ended?: string }).ended).toBeTruthy();

    expect(fieldsOf(steps(run.logs, 'feedback-uploaded')[0].message)).toMatchObject({
        instanceId: created.id,
        dataElementId: element.id,
        bytes: String(xml.length),
    });
    expect(fieldsOf(steps(run.logs, 'process-moved')[0].message)).toMatchObject({ from: 'Task_2', to: 'ended' });
    expect(fieldsOf(steps(run.logs, 'queued-next')[0].message).queue).toBe(queues.eventsConfirmation);

    expect((await h.deliver(queues.eventsConfirmation, confirmation)).error).toBeUndefined();
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });

    // The process.completed event that moving on published: only the new feedback element is downloaded.
    const completed = (await h.sim.control.listEvents()).find(
        (e) => e.type === 'app.instance.process.completed' && e.source === created.url,
    );
    expect(completed).toBeDefined();
    await h.enqueue(completed);
    const again = await h.deliver(queues.eventsInbound, processor);
    expect(again.error).toBeUndefined();
    expect(steps(again.logs, 'data-stored').map((l) => fieldsOf(l.message).dataElementId)).toEqual([element.id]);
    expect(fieldsOf(steps(again.logs, 'instance-stored')[0].message)).toMatchObject({ elements: '2', downloaded: '1' });
    // Not the feedback event type, but Altinn's document already holds the owner's complete: not called again.
    expect(steps(again.logs, 'confirm-skipped')).toHaveLength(1);
    expect(h.sim.counters().completes).toEqual({ [created.id]: 1 });
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    // Handed off once per version: the one in Task_2, and the ended one with the feedback element.
    const handedOff = (await h.peek(queues.instancesReceived)).map(
        (text) => JSON.parse(text) as { instanceId: string; version: string; elements: unknown[] },
    );
    expect(handedOff.map((m) => [m.instanceId, m.elements.length])).toEqual([
        [created.id, 1],
        [created.id, 2],
    ]);
    expect(new Set(handedOff.map((m) => m.version)).size).toBe(2);
});

test('feedback whose process/next leaves the process in another task: nothing confirmed, and that is recorded', async () => {
    const created = await createInTask(['Task_1', 'Task_2', 'Task_3'], 'Task_2');
    await stored(created);

    const run = await h.deliver(queues.eventsFeedback, feedback);
    expect(run.error).toBeUndefined();
    expect(h.sim.counters().requests['apps.processNext']).toEqual({ '200': 1 });
    expect(fieldsOf(steps(run.logs, 'process-moved')[0].message)).toMatchObject({ from: 'Task_2', to: 'Task_3' });
    const recorded = steps(run.logs, 'process-not-ended');
    expect(recorded.map((l) => l.level)).toEqual(['warning']);
    expect(fieldsOf(recorded[0].message)).toMatchObject({ instanceId: created.id, task: 'Task_3', after: 'feedback' });
    // Not handed on: complete is never called for a process that stands in a task.
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
    expect(h.sim.counters().completes).toEqual({});
    const entry = await ledgerOf(h.services.storage).get(
        instanceSubject(parseInstanceSource(created.url, h.sim.appsUrl)),
    );
    expect(entry).toMatchObject({
        confirmed: false,
        notEndedTask: 'Task_3',
        notEndedEventId: eventOf(created, taskEvent).id,
    });
});

test('a repeat after the instance moved on uploads nothing and moves nothing, and still hands on', async () => {
    const created = await createInTask();
    await stored(created);
    const message = (await h.peek(queues.eventsFeedback))[0];
    expect((await h.deliver(queues.eventsFeedback, feedback)).error).toBeUndefined();
    await h.clearQueues();

    await h.enqueue(message, queues.eventsFeedback);
    const repeat = await h.deliver(queues.eventsFeedback, feedback);
    expect(repeat.error).toBeUndefined();
    expect(fieldsOf(steps(repeat.logs, 'feedback-skipped')[0].message).reason).toBe('already uploaded');
    expect(fieldsOf(steps(repeat.logs, 'process-next-skipped')[0].message).reason).toBe('the process has ended');
    expect(h.sim.counters().requests['apps.postData']).toEqual({ '201': 1 });
    expect(h.sim.counters().requests['apps.processNext']).toEqual({ '200': 1 });
    expect(await feedbackElements(created)).toHaveLength(1);
    expect(await h.peek(queues.eventsConfirmation)).toEqual([message]);
});

test('a repeat after the upload but before process/next moves the process on without a second upload', async () => {
    const created = await createInTask();
    await stored(created);
    const message = (await h.peek(queues.eventsFeedback))[0];
    await h.sim.control.addFault({ endpoint: 'apps.processNext', status: 503, times: 1 });
    const first = await h.deliver(queues.eventsFeedback, feedback);
    expect(first.error).toBeDefined();
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);

    await h.enqueue(message, queues.eventsFeedback);
    const second = await h.deliver(queues.eventsFeedback, feedback);
    expect(second.error).toBeUndefined();
    expect(fieldsOf(steps(second.logs, 'feedback-skipped')[0].message).reason).toBe('already uploaded');
    expect(steps(second.logs, 'process-moved')).toHaveLength(1);
    expect(h.sim.counters().requests['apps.postData']).toEqual({ '201': 1 });
    expect(h.sim.counters().requests['apps.processNext']).toEqual({ '503': 1, '200': 1 });
    expect(await feedbackElements(created)).toHaveLength(1);
});

/** Holds the next call to `endpoint` in the simulator, ends the process meanwhile, then lets the call through. */
async function endProcessDuring(created: CreatedInstance, endpoint: string): Promise<void> {
    const fault = await h.sim.control.addFault({ endpoint, latencyMs: 600, times: 1 });
    const deadline = Date.now() + 10_000;
    while ((await h.sim.control.listFaults()).find((f) => f.id === fault.id)?.hits !== 1) {
        if (Date.now() > deadline) throw new Error(`${endpoint} was not called`);
        await new Promise((r) => setTimeout(r, 10));
    }
    await h.sim.control.moveProcess(created.id, { to: 'completed', publish: false });
}

test('409 from POST data ("Instance Not Active") after the process ended meanwhile counts as done', async () => {
    const created = await createInTask();
    await stored(created);
    const running = h.deliver(queues.eventsFeedback, feedback);
    await endProcessDuring(created, 'apps.postData');
    const run = await running;
    expect(run.error).toBeUndefined();
    expect(h.sim.counters().requests['apps.postData']).toEqual({ '409': 1 });
    expect(h.sim.counters().requests['apps.processNext']).toBeUndefined();
    expect(fieldsOf(steps(run.logs, 'feedback-skipped')[0].message).reason).toMatch(
        /HTTP 409: Instance Not Active: Cannot update data element of archived or deleted instance \d+\/[0-9a-f-]{36}; the process has ended/,
    );
    expect(await h.peek(queues.eventsConfirmation)).toHaveLength(1);
});

test('409 from process/next after the process ended meanwhile counts as done', async () => {
    const created = await createInTask();
    await stored(created);
    const running = h.deliver(queues.eventsFeedback, feedback);
    await endProcessDuring(created, 'apps.processNext');
    const run = await running;
    expect(run.error).toBeUndefined();
    expect(h.sim.counters().requests['apps.postData']).toEqual({ '201': 1 });
    expect(h.sim.counters().requests['apps.processNext']).toEqual({ '409': 1 });
    expect(fieldsOf(steps(run.logs, 'process-next-skipped')[0].message).reason).toMatch(/the process has ended/);
    expect(await h.peek(queues.eventsConfirmation)).toHaveLength(1);
});

test('a 409 while the process still stands in the task is an error', async () => {
    const created = await createInTask();
    await stored(created);
    await h.sim.control.addFault({
        endpoint: 'apps.postData',
        status: 409,
        body: { title: 'Conflict', status: 409, detail: 'Max count of data elements reached' },
    });
    const run = await h.deliver(queues.eventsFeedback, feedback);
    expect(run.error).toBeDefined();
    expect((run.error as Error).message).toMatch(/Max count.*has not moved on/);
    expect(h.sim.counters().requests['apps.processNext']).toBeUndefined();
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
});

test('a process/next refused by validation is an error that names the validation issues', async () => {
    const created = await createInTask(undefined, undefined, undefined, [
        { severity: 1, code: 'required', description: 'Signatur mangler', source: 'Required' },
    ]);
    await stored(created);
    const run = await h.deliver(queues.eventsFeedback, feedback);
    expect(h.sim.counters().requests['apps.processNext']).toEqual({ '409': 1 });
    expect((run.error as Error).message).toMatch(
        /Validation failed for task: 1 validation errors found for task Task_2 \(required: Signatur mangler\).*has not moved on/,
    );
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
});

test('FeedbackContentType sets the Content-Type and the file name extension the app checks', async () => {
    const file = join(templateDir, 'feedback.json');
    writeFileSync(file, '{"instance": "{{instanceId}}"}\n');
    const services = h.servicesWith({ FeedbackContentType: 'application/json', FeedbackTemplatePath: file });
    const created = await createInTask(undefined, undefined, ['application/json']);
    await stored(created);
    const run = await h.deliver(
        queues.eventsFeedback,
        createEventsFeedback(() => services),
    );
    expect(run.error).toBeUndefined();
    expect(h.sim.counters().requests['apps.postData']).toEqual({ '201': 1 });
    const [element] = await feedbackElements(created);
    expect(element).toMatchObject({ contentType: 'application/json', filename: 'feedback.json' });
});

test('an app that allows other content types than FeedbackContentType refuses the upload with the reason', async () => {
    const created = await createInTask(undefined, undefined, ['application/pdf']);
    await stored(created);
    const run = await h.deliver(queues.eventsFeedback, feedback);
    expect(run.error).toBeDefined();
    expect((run.error as Error).message).toMatch(
        /FeedbackContentType \(application\/xml\).*400.*Permitted content types include: application\/pdf/,
    );
    expect(h.sim.counters().requests['apps.processNext']).toBeUndefined();
});

test('when the process is already in another task, neither feedback nor process/next happens, and nothing is confirmed', async () => {
    const created = await createInTask(['Task_2', 'Task_3'], 'Task_3');
    await stored(created);
    const run = await h.deliver(queues.eventsFeedback, feedback);
    expect(run.error).toBeUndefined();
    expect(fieldsOf(steps(run.logs, 'feedback-skipped')[0].message).reason).toBe(
        'the process is in Task_3, not Task_2',
    );
    expect(h.sim.counters().requests['apps.postData']).toBeUndefined();
    expect(h.sim.counters().requests['apps.processNext']).toBeUndefined();
    expect(fieldsOf(steps(run.logs, 'process-not-ended')[0].message).task).toBe('Task_3');
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
});

test('a template from FeedbackTemplatePath, with values XML-escaped', async () => {
    const file = join(templateDir, 'custom.xml');
    writeFileSync(
        file,
        '<?xml version="1.0"?>\n<receipt app="{{app}}" org="{{ org }}">{{instanceId}} at {{receivedAt}}</receipt>\n',
    );
    const services: Services = h.servicesWith({ FeedbackTemplatePath: file });
    const created = await createInTask();
    await stored(created);
    const run = await h.deliver(
        queues.eventsFeedback,
        createEventsFeedback(() => services),
    );
    expect(run.error).toBeUndefined();
    const [element] = await feedbackElements(created);
    const xml = await expectedFeedback(created, readFileSync(file, 'utf8'));
    expect(xml.toString()).toMatch(
        /^<\?xml version="1.0"\?>\n<receipt app="fb-app" org="ttd">\d+\/[0-9a-f-]{36} at 20/,
    );
    expect(await h.sim.control.contentDigest(element.id)).toMatchObject({ size: xml.length, sha256: sha256(xml) });
});

test('without feedback settings EventsFeedback uploads nothing and hands on only an instance whose process has ended', async () => {
    const services = h.servicesWith({ FeedbackEventType: undefined, FeedbackDataType: undefined });
    const withoutFeedback = createEventsFeedback(() => services);
    const created = await createInTask();
    await h.enqueue(eventOf(created, taskEvent), queues.eventsFeedback);
    const inTask = await h.deliver(queues.eventsFeedback, withoutFeedback);
    expect(inTask.error).toBeUndefined();
    expect(fieldsOf(steps(inTask.logs, 'feedback-skipped')[0].message).reason).toBe('feedback is not configured');
    expect(fieldsOf(steps(inTask.logs, 'process-not-ended')[0].message).task).toBe('Task_2');
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);

    await h.sim.control.moveProcess(created.id, { to: 'completed', publish: false });
    await h.enqueue(eventOf(created, taskEvent), queues.eventsFeedback);
    expect((await h.deliver(queues.eventsFeedback, withoutFeedback)).error).toBeUndefined();
    expect(h.sim.counters().requests).toMatchObject({ 'apps.getInstance': { '200': 2 } });
    expect(h.sim.counters().requests['apps.postData']).toBeUndefined();
    expect(await h.peek(queues.eventsConfirmation)).toHaveLength(1);
});

test('feedback for an instance that was never stored fails loudly and changes nothing', async () => {
    const created = await createInTask();
    await h.enqueue(eventOf(created, taskEvent), queues.eventsFeedback);
    const run = await h.deliver(queues.eventsFeedback, feedback);
    expect(run.error).toBeInstanceOf(InstanceNotStoredError);
    expect(h.sim.counters().requests).toEqual({});
    expect(await h.peek(queues.eventsConfirmation)).toEqual([]);
});
