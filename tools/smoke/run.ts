/**
 * The smoke run in a test environment: as the service owner, through the app API, create an
 * instance, upload data to it, move its process to the end where the org may, then follow it
 * through the deployment to stored, confirmed and handed off. Each step prints with the time since
 * the start. Where the process needs a person (a signature, a confirmation the org may not give),
 * it says so and stops: the instance stays in Altinn at that task.
 */
import { AltinnAccessError, createAppsClient, type InstanceOwner, type ProcessState } from '../../shared/altinn/apps';
import { AltinnHttpError } from '../../shared/altinn/errors';
import { decodeJwtClaims } from '../../shared/altinn/jwt';
import type { AltinnStack } from '../../shared/altinn';
import type { AppConfig, AppRef } from '../../shared/config';
import { followInstance, type StatusSource } from './follow';

export interface SmokeInput {
    app: AppRef;
    dataType: string;
    fileName: string;
    contentType: string;
    body: Buffer;
    /** Default: the organisation of the Altinn token. */
    owner?: InstanceOwner;
    timeoutMs: number;
}

export type SmokeOutcome = 'handed-off' | 'needs-person' | 'failed';

/** How many tasks the run moves through at most (a loop in a process would otherwise never end). */
const maxTasks = 20;

export async function runSmoke(
    input: SmokeInput,
    config: AppConfig,
    stack: AltinnStack,
    status: StatusSource,
    print: (line: string) => void,
): Promise<SmokeOutcome> {
    const started = Date.now();
    const step = (name: string, detail: string) => {
        const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
        print(`+${seconds} s  ${name.padEnd(12)}  ${detail}`);
    };
    const apps = createAppsClient(stack.http, config, stack.tokens);
    const { org, app } = input.app;

    const claims = decodeJwtClaims(await stack.tokens.getAltinnToken()) ?? {};
    const claim = (name: string) => (typeof claims[name] === 'string' ? claims[name] : undefined);
    const orgNumber = claim('urn:altinn:orgNumber');
    step('token', `an Altinn token for org ${claim('urn:altinn:org') ?? '?'} (${orgNumber ?? '?'})`);

    const owner = input.owner ?? (orgNumber ? { organisationNumber: orgNumber } : undefined);
    if (!owner) throw new Error('the Altinn token names no organisation number: give --party or --org-number');
    const { instance } = await apps.instantiate(org, app, owner);
    const instanceUrl = `${config.appsBaseUrl}/${org}/${app}/instances/${instance.id}`;
    const ownerText = 'partyId' in owner ? `party ${owner.partyId}` : `organisation ${owner.organisationNumber}`;
    step('instantiated', `${instance.id} for ${ownerText}, at ${taskOf(instance.process)}`);

    const posted = await apps.postData(instanceUrl, {
        dataType: input.dataType,
        contentType: input.contentType,
        filename: input.fileName,
        body: input.body,
    });
    if ('conflict' in posted) {
        step('failed', `the app refused the data: ${posted.conflict}`);
        return 'failed';
    }
    step('uploaded', `${input.fileName} as ${input.dataType} (${input.contentType}, ${input.body.length} bytes)`);

    for (let moves = 0; ; moves++) {
        if (moves >= maxTasks) {
            step('failed', `the process did not end after ${maxTasks} tasks`);
            return 'failed';
        }
        const moved = await processNext(apps, instanceUrl);
        if ('person' in moved) {
            step('needs person', moved.person);
            step('stopped', `the instance ${instance.id} stays in Altinn at that task; nothing more to check here`);
            return 'needs-person';
        }
        if ('conflict' in moved) {
            step('failed', `the app would not move the process on: ${moved.conflict}`);
            return 'failed';
        }
        if (moved.state.ended) {
            step('process', 'ended (Altinn publishes app.instance.process.completed)');
            break;
        }
        step('process', `moved to ${taskOf(moved.state)}`);
    }

    const result = await followInstance(status, instance.id, {
        timeoutMs: input.timeoutMs,
        report: (name, detail) => step(name, detail),
    });
    if (result === 'timeout') {
        step('failed', `the deployment did not hand ${instance.id} off within ${Math.round(input.timeoutMs / 1000)} s`);
        return 'failed';
    }
    return result === 'handed-off' ? 'handed-off' : 'failed';
}

function taskOf(process: ProcessState | null | undefined): string {
    const task = process?.currentTask as { elementId?: string | null; altinnTaskType?: string | null } | null;
    if (!task?.elementId) return process?.ended ? 'the end' : 'no task';
    return `${task.elementId}${task.altinnTaskType ? ` (${task.altinnTaskType})` : ''}`;
}

/**
 * PUT process/next. A task the org may not move past is not a failure: app-lib answers 403
 * "User is not authorized to perform process next" (ProcessEngineAuthorizer), or 409 with
 * SigningTaskValidator's MissingSignatures for a signing task.
 */
async function processNext(
    apps: ReturnType<typeof createAppsClient>,
    instanceUrl: string,
): Promise<{ state: ProcessState } | { person: string } | { conflict: string }> {
    try {
        const result = await apps.processNext(instanceUrl);
        if ('moved' in result) return { state: result.moved };
        if (/MissingSignatures/.test(result.conflict)) {
            return { person: `the task needs signatures, which only the signees can give (${result.conflict})` };
        }
        return { conflict: result.conflict };
    } catch (error) {
        const cause = error instanceof AltinnAccessError ? error.cause : undefined;
        const detail = cause instanceof AltinnHttpError ? cause.problem?.detail : undefined;
        if (typeof detail === 'string' && /not authorized to perform process next/i.test(detail)) {
            return { person: `the org may not move past this task, a person must: ${detail}` };
        }
        throw error;
    }
}
