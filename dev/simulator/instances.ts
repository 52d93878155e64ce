import { randomUUID } from 'node:crypto';
import { contentFromInput, contentSize } from './content';
import { type SimCore } from './core';
import { appsInstanceUrl, dataSelfLinks, instanceId } from './models';
import { type DataElementRecord, type InstanceRecord } from './state';
import {
    fileScanResultValues,
    type CloudEvent,
    type CreateInstanceInput,
    type CreatedInstance,
    type DataElementInput,
    type FileScanResult,
} from './types';

/* Instances and their process, shared by the app API (process/next) and the control API. */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class InstanceInputError extends Error {}

function personNumberFor(partyId: number): string {
    // 11 digits, unique per party; not a valid fødselsnummer, which nothing here checks.
    return `0101${String(partyId).padStart(7, '0').slice(-7)}`;
}

export function newDataElement(
    instance: InstanceRecord,
    input: DataElementInput,
    by: string,
    now = new Date().toISOString(),
): DataElementRecord {
    if (!input.dataType) {
        throw new InstanceInputError('Every data element needs a dataType');
    }
    const fileScanResult = checkFileScanResult(input.fileScanResult ?? 'NotApplicable');
    const id = randomUUID();
    const element: DataElementRecord = {
        id,
        instanceGuid: instance.guid,
        dataType: input.dataType,
        contentType: input.contentType ?? 'application/octet-stream',
        content: contentFromInput(input, id),
        created: now,
        createdBy: by,
        lastChanged: now,
        lastChangedBy: by,
        fileScanResult,
    };
    if (input.filename !== undefined) {
        element.filename = input.filename;
    }
    if (input.selfLinks) {
        element.selfLinkOverrides = { ...input.selfLinks };
    }
    return element;
}

export function checkFileScanResult(value: unknown): FileScanResult {
    if (!fileScanResultValues.includes(value as FileScanResult)) {
        throw new InstanceInputError(`fileScanResult must be one of ${fileScanResultValues.join(', ')}`);
    }
    return value as FileScanResult;
}

function checkTime(at: string): string {
    const time = Date.parse(at);
    if (Number.isNaN(time)) throw new InstanceInputError('at must be an ISO time');
    return new Date(time).toISOString();
}

export function createInstance(
    core: SimCore,
    input: CreateInstanceInput,
): { instance: InstanceRecord; events: CloudEvent[] } {
    const org = input.org ?? core.options.org;
    if (!input.app || !/^[a-z0-9-]+$/i.test(input.app) || !/^[a-z0-9-]+$/i.test(org)) {
        throw new InstanceInputError('app (and org) must be non-empty names of letters, digits and dashes');
    }
    const guid = (input.instanceGuid ?? randomUUID()).toLowerCase();
    if (!GUID.test(guid)) {
        throw new InstanceInputError('instanceGuid must be a GUID');
    }
    const partyId = input.partyId ?? core.state.nextPartyId++;
    if (!Number.isSafeInteger(partyId) || partyId <= 0) {
        throw new InstanceInputError('partyId must be a positive integer');
    }
    if (core.state.instance(partyId, guid)) {
        throw new InstanceInputError(`Instance ${partyId}/${guid} already exists`);
    }
    const processInput = input.process ?? 'Task_1';
    const completed = processInput === 'completed';
    const tasks = input.tasks ?? (completed ? ['Task_1'] : [processInput]);
    const now = input.at === undefined ? new Date().toISOString() : checkTime(input.at);
    const personNumber =
        input.organisationNumber === undefined ? (input.personNumber ?? personNumberFor(partyId)) : input.personNumber;
    const instance: InstanceRecord = {
        partyId,
        guid,
        org,
        app: input.app,
        partyName: input.partyName ?? (personNumber ? `Test Person ${partyId}` : `Test Organisation ${partyId}`),
        partyUuid: randomUUID(),
        created: now,
        createdBy: String(partyId),
        lastChanged: now,
        lastChangedBy: String(partyId),
        processStarted: now,
        tasks,
        completeConfirmations: [],
        data: [],
        registerEvents: input.registerEvents ?? true,
    };
    if (personNumber !== undefined) {
        instance.personNumber = personNumber;
    }
    if (input.organisationNumber !== undefined) {
        instance.organisationNumber = input.organisationNumber;
    }
    if (input.dataTypes) {
        instance.dataTypes = input.dataTypes.map((type) =>
            typeof type === 'string'
                ? { id: type, form: false }
                : { id: type.id, form: type.form === true, allowedContentTypes: type.allowedContentTypes },
        );
    }
    if (input.validationIssues) {
        instance.validationIssues = input.validationIssues.map((issue) => ({ ...issue }));
    }
    if (completed) {
        instance.ended = now;
        instance.archived = now;
    } else {
        instance.currentTask = { elementId: processInput, started: now, flow: 2 };
    }
    instance.data = (input.dataElements ?? []).map((d) => newDataElement(instance, d, String(partyId), now));
    core.state.instances.set(instanceId(instance), instance);

    const types = Array.isArray(input.publish)
        ? input.publish
        : input.publish
          ? [completed ? 'app.instance.process.completed' : `app.instance.process.movedTo.${processInput}`]
          : [];
    const events = types.map((type) => core.publishInstanceEvent(instance, type, input.deliver ?? true));
    return { instance, events };
}

export function createdInstanceSummary(core: SimCore, instance: InstanceRecord, events: CloudEvent[]): CreatedInstance {
    return {
        id: instanceId(instance),
        partyId: instance.partyId,
        instanceGuid: instance.guid,
        org: instance.org,
        app: instance.app,
        url: appsInstanceUrl(core.origins, instance),
        dataElements: instance.data.map((d) => {
            const links = dataSelfLinks(core.origins, instance, d);
            return {
                id: d.id,
                dataType: d.dataType,
                size: contentSize(d.content),
                contentType: d.contentType,
                ...(d.filename !== undefined ? { filename: d.filename } : {}),
                blobStoragePath: `${instance.org}/${instance.app}/${instance.guid}/data/${d.id}`,
                appsUrl: links.apps,
                platformUrl: links.platform,
            };
        }),
        events,
    };
}

/**
 * Moves the process: 'next' goes to the task after the current one in `tasks` or ends the process,
 * 'completed' ends it, a task id moves there. Returns the event type to publish, or an error text.
 * Ending archives the instance, as Storage does (ProcessController ~l.325).
 */
export function moveProcess(
    instance: InstanceRecord,
    to: string,
    by: string,
): { eventType: string } | { error: string } {
    if (instance.ended) {
        return { error: 'Process is ended.' };
    }
    const now = new Date().toISOString();
    const flow = (instance.currentTask?.flow ?? 1) + 1;
    let target = to;
    if (to === 'next') {
        const index = instance.currentTask ? instance.tasks.indexOf(instance.currentTask.elementId) : -1;
        target = index >= 0 && index + 1 < instance.tasks.length ? instance.tasks[index + 1] : 'completed';
    }
    instance.lastChanged = now;
    instance.lastChangedBy = by;
    if (target === 'completed') {
        delete instance.currentTask;
        instance.ended = now;
        instance.archived = now;
        return { eventType: 'app.instance.process.completed' };
    }
    if (!instance.tasks.includes(target)) {
        instance.tasks.push(target);
    }
    instance.currentTask = { elementId: target, started: now, flow };
    return { eventType: `app.instance.process.movedTo.${target}` };
}
