/**
 * Feedback: after the feedback event type (a task event such as
 * app.instance.process.movedTo.Task_2), upload a data element of FeedbackDataType (FeedbackContentType, XML by default) to the
 * instance and move its process on with PUT process/next.
 *
 * Delivery is at least once, so a repeat must change nothing twice:
 * - the instance already carries a feedback element of that data type created by this system
 *   (createdBy is its org or organisation number) → no second upload;
 * - the process is no longer in the task the event named (or has ended) → neither upload nor
 *   process/next: someone, or an earlier attempt, moved it on, and a second "next" would skip a task;
 * - a 409 from POST data or process/next (no current task, instance not active) after the
 *   process moved on → done. A 409 while the process still stands in that task is an error.
 * When the event type names no task, a repeat that finds its feedback already uploaded does not
 * call process/next either, because it cannot tell whether the earlier attempt did.
 *
 * The outcome says where the process stands afterwards, as process/next answered (app-lib's
 * ProcessController.NextElement answers the new AppProcessState: `ended` set when the next element
 * was the end event, otherwise the next task as currentTask) or as the instance was last fetched.
 * Only an ended process goes on to confirmation (processEnd.ts).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ProcessState } from '../altinn/apps';
import { AltinnHttpError } from '../altinn/errors';
import { fileExtension } from '../altinn/fileTypes';
import { ConfigError, type FeedbackConfig } from '../config';
import { logStep, warnStep } from '../log';
import { decodeMetadataValue, instanceBlobName } from './layout';
import type { InstanceEvent, Pipeline } from './pipeline';
import type { InstanceRef } from './source';
import { InstanceNotStoredError } from './store';
import { hasEnded, processPosition } from './version';

export const feedbackPlaceholders = ['instanceId', 'instanceGuid', 'partyId', 'org', 'app', 'receivedAt'] as const;
export type FeedbackValues = Record<(typeof feedbackPlaceholders)[number], string>;

/** feedback.{extension}: Altinn apps require a file name with an extension that fits the Content-Type. */
export function feedbackFilename(contentType: string): string {
    return `feedback.${fileExtension(contentType) ?? 'xml'}`;
}

/**
 * Gone (404), or done: with where the process stands after it (as process/next answered, or as the
 * instance was last fetched), which decides whether it may be confirmed (only when it has ended).
 */
export type FeedbackOutcome = { kind: 'gone' } | { kind: 'done'; ended: boolean; task: string };

/** templates/feedback.xml of the app root, found from here whether running from source or from dist/. */
export function defaultTemplatePath(): string {
    for (let dir = __dirname, depth = 0; depth < 5; depth++, dir = dirname(dir)) {
        const candidate = join(dir, 'templates', 'feedback.xml');
        if (existsSync(candidate)) return candidate;
    }
    throw new Error('The built-in feedback template templates/feedback.xml is missing from the deployment');
}

const templates = new Map<string, Promise<string>>();

/**
 * The template at `path` (relative to the app root, the working directory of the host), or the
 * built-in one; read once per process and checked for unknown placeholders.
 */
export function loadFeedbackTemplate(path?: string): Promise<string> {
    const file = path ? resolve(path) : defaultTemplatePath();
    let template = templates.get(file);
    if (!template) {
        template = readFile(file, 'utf8').then(
            (text) => {
                const unknown = [...text.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)]
                    .map((match) => match[1])
                    .filter((name) => !(feedbackPlaceholders as readonly string[]).includes(name));
                if (unknown.length > 0) {
                    throw new ConfigError(
                        'FeedbackTemplatePath',
                        `${file} has unknown placeholders ${unknown.map((name) => `{{${name}}}`).join(', ')}; known: ${feedbackPlaceholders.join(', ')}`,
                    );
                }
                return text;
            },
            (error: NodeJS.ErrnoException) => {
                throw new ConfigError('FeedbackTemplatePath', `cannot read ${file}: ${error.code ?? error.message}`);
            },
        );
        template.catch(() => templates.delete(file));
        templates.set(file, template);
    }
    return template;
}

export function xmlEscape(value: string): string {
    return value.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

export function renderFeedback(template: string, values: FeedbackValues): string {
    return template.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (whole, name: string) =>
        name in values ? xmlEscape(values[name as keyof FeedbackValues]) : whole,
    );
}

export function feedbackValues(ref: InstanceRef, receivedAt: string): FeedbackValues {
    const { instanceId, instanceGuid, partyId, org, app } = ref;
    return { instanceId, instanceGuid, partyId, org, app, receivedAt };
}

interface ProcessPosition {
    currentTask?: string;
    ended: boolean;
    /** The process state it was read from; undefined when the instance is gone. */
    process?: ProcessState | null;
}

function positionOf(process: ProcessState | null | undefined): ProcessPosition {
    const currentTask = process?.currentTask?.elementId ?? undefined;
    return { currentTask, ended: Boolean(process?.ended) || !currentTask, process: process ?? null };
}

function outcomeAt(position: ProcessPosition): FeedbackOutcome {
    if (position.process === undefined) return { kind: 'gone' };
    return { kind: 'done', ended: hasEnded(position.process), task: processPosition(position.process) };
}

/** Uploads the feedback and moves the process on, as far as that is still to be done (see above). */
export async function sendFeedback(
    pipeline: Pipeline,
    message: InstanceEvent,
    feedback: FeedbackConfig,
): Promise<FeedbackOutcome> {
    const { apps, store, logger } = pipeline;
    const { ref, fields } = message;
    const started = Date.now();

    const stored = await store.instanceInfo(ref);
    if (!stored) throw new InstanceNotStoredError(ref.instanceId, instanceBlobName(ref), 'send feedback for');
    const fetched = await apps.getInstance(ref.url, { logger });
    if (!fetched) {
        warnStep(logger, 'instance-gone', {
            ...fields,
            reason: 'the app API answered 404; no feedback, no confirmation',
        });
        return { kind: 'gone' };
    }
    const task = /^app\.instance\.process\.movedTo\.(.+)$/.exec(message.event.type)?.[1];
    let position = positionOf(fetched.instance.process);
    const movedOn = (at: ProcessPosition) => at.ended || (task !== undefined && at.currentTask !== task);

    const ours = await apps.identities();
    const existing = (fetched.instance.data ?? []).find(
        (element) =>
            element.dataType === feedback.dataType &&
            typeof element.createdBy === 'string' &&
            ours.includes(element.createdBy),
    );
    let uploaded = false;
    if (existing) {
        logStep(logger, 'feedback-skipped', { ...fields, reason: 'already uploaded', dataElementId: existing.id });
    } else if (movedOn(position)) {
        warnStep(logger, 'feedback-skipped', { ...fields, reason: describeMove(position, task) });
    } else {
        const receivedAt =
            decodeMetadataValue(stored.metadata.storedat) ??
            stored.lastModified?.toISOString() ??
            new Date().toISOString();
        const xml = renderFeedback(await loadFeedbackTemplate(feedback.templatePath), feedbackValues(ref, receivedAt));
        const body = Buffer.from(xml, 'utf8');
        const result = await apps
            .postData(
                ref.url,
                {
                    dataType: feedback.dataType,
                    contentType: feedback.contentType,
                    filename: feedbackFilename(feedback.contentType),
                    body,
                },
                { logger },
            )
            .catch((error: unknown) => {
                throw refusedUpload(error, ref, feedback);
            });
        if ('created' in result) {
            uploaded = true;
            logStep(logger, 'feedback-uploaded', {
                ...fields,
                dataElementId: result.created.id,
                dataType: feedback.dataType,
                bytes: body.length,
                durationMs: Date.now() - started,
            });
        } else {
            position = await positionAfterConflict(pipeline, ref, 'POST feedback', result.conflict, movedOn);
            logStep(logger, 'feedback-skipped', {
                ...fields,
                reason: `${result.conflict}; ${describeMove(position, task)}`,
            });
        }
    }

    if (movedOn(position)) {
        logStep(logger, 'process-next-skipped', { ...fields, reason: describeMove(position, task) });
    } else if (existing && task === undefined) {
        warnStep(logger, 'process-next-skipped', {
            ...fields,
            reason: 'feedback was uploaded earlier and the event names no task to tell whether the process moved since',
        });
    } else {
        const result = await apps.processNext(ref.url, { logger });
        if ('moved' in result) {
            const now = result.moved.currentTask?.elementId ?? (result.moved.ended ? 'ended' : undefined);
            logStep(logger, 'process-moved', { ...fields, from: position.currentTask, to: now, uploaded });
            position = positionOf(result.moved);
        } else {
            position = await positionAfterConflict(pipeline, ref, 'PUT process/next', result.conflict, movedOn);
            logStep(logger, 'process-next-skipped', {
                ...fields,
                reason: `${result.conflict}; ${describeMove(position, task)}`,
            });
        }
    }
    return outcomeAt(position);
}

/**
 * A message on events-feedback when no feedback is configured (left there after the settings were
 * removed): nothing is uploaded, and where the process stands decides whether it may be confirmed.
 */
export async function processWithoutFeedback(
    { apps, logger }: Pick<Pipeline, 'apps' | 'logger'>,
    message: InstanceEvent,
): Promise<FeedbackOutcome> {
    const fetched = await apps.getInstance(message.ref.url, { logger });
    if (!fetched) {
        warnStep(logger, 'instance-gone', { ...message.fields, reason: 'the app API answered 404; no confirmation' });
        return { kind: 'gone' };
    }
    return outcomeAt(positionOf(fetched.instance.process));
}

/** A 400 to the upload is the app's data type rules against this system's settings: the error says which. */
function refusedUpload(error: unknown, ref: InstanceRef, feedback: FeedbackConfig): unknown {
    if (!(error instanceof AltinnHttpError) || error.status !== 400) return error;
    return new Error(
        `The app refused the feedback for instance ${ref.instanceId}: check FeedbackDataType (${feedback.dataType}) and FeedbackContentType (${feedback.contentType}) against the data type in the app's applicationmetadata.json. ${error.message}`,
        { cause: error },
    );
}

/** After a 409: fine if the process has moved on since; otherwise the conflict is a real error. */
async function positionAfterConflict(
    { apps, logger }: Pipeline,
    ref: InstanceRef,
    what: string,
    conflict: string,
    movedOn: (at: ProcessPosition) => boolean,
): Promise<ProcessPosition> {
    const again = await apps.getInstance(ref.url, { logger });
    const position: ProcessPosition = again ? positionOf(again.instance.process) : { ended: true };
    if (!movedOn(position)) {
        throw new Error(
            `${what} for instance ${ref.instanceId} failed with ${conflict}, though its process has not moved on`,
        );
    }
    return position;
}

function describeMove(position: ProcessPosition, task: string | undefined): string {
    if (position.ended) return 'the process has ended';
    return `the process is in ${position.currentTask ?? 'no task'}${task ? `, not ${task}` : ''}`;
}
