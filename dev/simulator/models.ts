import { contentSize } from './content';
import { type DataElementRecord, type FileTransferRecord, type InstanceRecord } from './state';
import { type Origins } from './types';

/*
 * JSON shapes as the real services write them (altinn-api.md §4.1, §4.7-4.8, §5). The app (System.Text.Json,
 * camelCase) writes nulls; Storage models are rendered without nulls. Property order follows the C# models.
 */

export type View = 'app' | 'storage';

export function instanceId(instance: InstanceRecord): string {
    return `${instance.partyId}/${instance.guid}`;
}

export function appsInstanceUrl(origins: Origins, instance: InstanceRecord): string {
    return `${origins.appsUrl}/${instance.org}/${instance.app}/instances/${instanceId(instance)}`;
}

export function platformInstanceUrl(origins: Origins, instance: InstanceRecord): string {
    return `${origins.platformUrl}/storage/api/v1/instances/${instanceId(instance)}`;
}

export function dataSelfLinks(
    origins: Origins,
    instance: InstanceRecord,
    element: DataElementRecord,
): { apps: string; platform: string } {
    return {
        apps: element.selfLinkOverrides?.apps ?? `${appsInstanceUrl(origins, instance)}/data/${element.id}`,
        platform: element.selfLinkOverrides?.platform ?? `${platformInstanceUrl(origins, instance)}/data/${element.id}`,
    };
}

function withoutNulls(value: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

export function dataElementJson(
    origins: Origins,
    instance: InstanceRecord,
    element: DataElementRecord,
    view: View,
): Record<string, unknown> {
    const links = dataSelfLinks(origins, instance, element);
    const json: Record<string, unknown> = {
        id: element.id,
        instanceGuid: element.instanceGuid,
        dataType: element.dataType,
        filename: element.filename ?? null,
        contentType: element.contentType,
        blobStoragePath: `${instance.org}/${instance.app}/${instance.guid}/data/${element.id}`,
        selfLinks: view === 'app' ? links : { platform: links.platform },
        size: contentSize(element.content),
        contentHash: null,
        locked: false,
        refs: null,
        isRead: true,
        tags: [],
        userDefinedMetadata: null,
        metadata: null,
        deleteStatus: null,
        fileScanResult: element.fileScanResult,
        references: null,
        created: element.created,
        createdBy: element.createdBy,
        lastChanged: element.lastChanged,
        lastChangedBy: element.lastChangedBy,
    };
    return view === 'app' ? json : withoutNulls(json);
}

/** The task's altinn:taskType; a task of an instance created without an app definition is a data task. */
export function taskTypeOf(instance: InstanceRecord, taskId: string): string {
    return instance.taskTypes?.[taskId] ?? 'data';
}

export function processStateJson(instance: InstanceRecord): Record<string, unknown> {
    const task = instance.currentTask;
    return {
        started: instance.processStarted,
        startEvent: 'StartEvent_1',
        currentTask: task
            ? {
                  flow: task.flow,
                  started: task.started,
                  elementId: task.elementId,
                  name: task.elementId,
                  altinnTaskType: taskTypeOf(instance, task.elementId),
                  ended: null,
                  validated: null,
                  flowType: 'CompleteCurrentMoveToNext',
              }
            : null,
        ended: instance.ended ?? null,
        endEvent: instance.ended ? 'EndEvent_1' : null,
    };
}

/** app-lib's AppProcessState: the ProcessState plus the process's tasks. */
export function appProcessStateJson(instance: InstanceRecord): Record<string, unknown> {
    const state = processStateJson(instance);
    if (state.currentTask && typeof state.currentTask === 'object') {
        state.currentTask = {
            ...state.currentTask,
            actions: { write: true, complete: true },
            userActions: [],
            read: true,
            write: true,
        };
    }
    return {
        ...state,
        processTasks: instance.tasks.map((elementId) => ({
            altinnTaskType: taskTypeOf(instance, elementId),
            elementId,
        })),
    };
}

function statusJson(instance: InstanceRecord, view: View): Record<string, unknown> {
    return {
        isArchived: instance.archived !== undefined,
        archived: instance.archived ?? null,
        isSoftDeleted: false,
        softDeleted: null,
        isHardDeleted: false,
        hardDeleted: null,
        // Storage (Newtonsoft StringEnumConverter) writes the enum name; the app (STJ without a converter) a number.
        readStatus: view === 'app' ? 1 : 'Read',
        substatus: instance.substatus
            ? { label: instance.substatus.label, description: instance.substatus.description ?? null }
            : null,
    };
}

function instanceOwnerJson(instance: InstanceRecord): Record<string, unknown> {
    return {
        partyId: String(instance.partyId),
        personNumber: instance.personNumber ?? null,
        organisationNumber: instance.organisationNumber ?? null,
        username: null,
        externalIdentifier: null,
    };
}

/** The Storage Instance: Storage's own answer (view 'storage') or the app's (complete, substatus) with app self links. */
export function instanceJson(origins: Origins, instance: InstanceRecord, view: View): Record<string, unknown> {
    const selfLinks =
        view === 'app'
            ? { apps: appsInstanceUrl(origins, instance), platform: platformInstanceUrl(origins, instance) }
            : { platform: platformInstanceUrl(origins, instance) };
    const json: Record<string, unknown> = {
        id: instanceId(instance),
        instanceOwner: view === 'app' ? instanceOwnerJson(instance) : withoutNulls(instanceOwnerJson(instance)),
        appId: `${instance.org}/${instance.app}`,
        org: instance.org,
        selfLinks,
        dueBefore: null,
        visibleAfter: instance.created,
        process: processStateJson(instance),
        status: view === 'app' ? statusJson(instance, view) : withoutNulls(statusJson(instance, view)),
        completeConfirmations: instance.completeConfirmations.length > 0 ? instance.completeConfirmations : null,
        data: instance.data.map((d) => dataElementJson(origins, instance, d, view)),
        presentationTexts: null,
        dataValues: null,
        created: instance.created,
        createdBy: instance.createdBy,
        lastChanged: instance.lastChanged,
        lastChangedBy: instance.lastChangedBy,
    };
    return view === 'app' ? json : withoutNulls(json);
}

/** app-lib's InstanceResponse for GET instance: the instance with instanceOwner.party filled in. */
export function instanceResponseJson(origins: Origins, instance: InstanceRecord): Record<string, unknown> {
    const json = instanceJson(origins, instance, 'app');
    const isPerson = instance.personNumber !== undefined;
    json.instanceOwner = {
        ...instanceOwnerJson(instance),
        party: {
            partyId: instance.partyId,
            partyUuid: instance.partyUuid,
            partyTypeName: isPerson ? 'Person' : 'Organisation',
            ssn: instance.personNumber ?? null,
            orgNumber: instance.organisationNumber ?? null,
            unitType: isPerson ? null : 'AS',
            name: instance.partyName,
            isDeleted: false,
        },
    };
    return json;
}

function recipientJson(r: FileTransferRecord['recipients'][number]): Record<string, unknown> {
    return {
        recipient: r.recipient,
        currentRecipientFileTransferStatusCode: r.status,
        currentRecipientFileTransferStatusText: recipientStatusText[r.status],
        currentRecipientFileTransferStatusChanged: r.changed,
    };
}

// altinn-broker src/Altinn.Broker.API/Mappers/FileStatusOverviewExtMapper.cs (MapToRecipientStatusText,
// MapToFileTransferStatusText): the texts Broker writes, word for word.
const recipientStatusText: Record<string, string> = {
    Initialized: 'Initialized',
    DownloadStarted: 'Recipient has attempted to download fileTransfer',
    DownloadConfirmed: 'Recipient has downloaded fileTransfer',
};

const fileTransferStatusText: Record<string, string> = {
    Initialized: 'Ready for upload',
    UploadStarted: 'Upload started',
    UploadProcessing: 'Processing upload',
    Published: 'Ready for download',
    Cancelled: 'FileTransfer cancelled',
    AllConfirmedDownloaded: 'All downloaded',
    Purged: 'FileTransfer has been purged',
    Failed: 'Upload failed',
};

export function fileTransferOverviewJson(transfer: FileTransferRecord): Record<string, unknown> {
    return {
        fileTransferId: transfer.id,
        resourceId: transfer.resourceId,
        fileName: transfer.fileName,
        sendersFileTransferReference: transfer.sendersFileTransferReference ?? null,
        checksum: transfer.checksum ?? null,
        useVirusScan: false,
        fileTransferSize: contentSize(transfer.content),
        fileTransferStatus: transfer.status,
        fileTransferStatusText: fileTransferStatusText[transfer.status] ?? transfer.status,
        fileTransferStatusChanged: transfer.statusChanged,
        created: transfer.created,
        expirationTime: transfer.expirationTime,
        sender: transfer.sender,
        recipients: transfer.recipients.map(recipientJson),
        propertyList: transfer.propertyList,
        published: transfer.published,
    };
}

export function fileTransferDetailsJson(transfer: FileTransferRecord): Record<string, unknown> {
    return {
        ...fileTransferOverviewJson(transfer),
        fileTransferStatusHistory: transfer.statusHistory.map((h) => ({
            fileTransferStatus: h.status,
            fileTransferStatusText: fileTransferStatusText[h.status] ?? h.status,
            fileTransferStatusChanged: h.changed,
        })),
        recipientFileTransferStatusHistory: transfer.recipients.flatMap((r) =>
            r.history.map((h) => ({
                recipient: r.recipient,
                recipientFileTransferStatusCode: h.status,
                recipientFileTransferStatusText: recipientStatusText[h.status],
                recipientFileTransferStatusChanged: h.changed,
            })),
        ),
    };
}
