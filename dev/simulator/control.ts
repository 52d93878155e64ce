import { randomUUID } from 'node:crypto';
import {
    confirmAsRecipient,
    createFileTransfer,
    FileTransferInputError,
    recordDownloadStarted,
    withPrefix,
} from './broker';
import { expireFileTransfer } from './brokerExpiry';
import { type ScanVerdict } from './brokerScans';
import { completeScan } from './brokerSender';
import { contentSize, digestContent } from './content';
import { type SimCore } from './core';
import { FaultInputError } from './faults';
import { readJson, sendEmpty, sendJson } from './http';
import {
    checkFileScanResult,
    createdInstanceSummary,
    createInstance,
    InstanceInputError,
    moveProcess,
} from './instances';
import { AppDefinitionError, registerApp } from './instantiation';
import { ClientRegistrationError, toRegisteredClient } from './maskinporten';
import { dataElementJson, fileTransferOverviewJson, instanceResponseJson } from './models';
import { type RequestContext, type RouteDefinition } from './router';
import { consumerClaim, nowSeconds } from './tokens';
import {
    type AppDefinitionInput,
    type ClientRegistration,
    type CloudEvent,
    type ContentDigest,
    type CountersSnapshot,
    type CreatedInstance,
    type CreateFileTransferInput,
    type CreateInstanceInput,
    type DeliveryRecord,
    type Fault,
    type FileScanResult,
    type FaultInput,
    type IssueTokenInput,
    type MoveProcessInput,
    type Origins,
    type PublishEventInput,
    type ResetOptions,
    type Subscription,
} from './types';

/*
 * The test-facing control surface. The same operations exist as typed methods (in process) and as
 * JSON over HTTP under /sim/ on the platform listener (no auth: it is a development tool on loopback).
 */

export interface ClientInfo {
    clientId: string;
    scopes: string[];
    orgNumber: string;
    hasCertificate: boolean;
    kids: string[];
}

export interface SimulatorInfo extends Origins {
    org: string;
    orgNumber: string;
}

export interface FileTransferCreated {
    fileTransferId: string;
    overview: Record<string, unknown>;
    events: CloudEvent[];
}

export interface SimulatorControl {
    info(): Promise<SimulatorInfo>;
    registerClient(client: ClientRegistration): Promise<void>;
    listClients(): Promise<ClientInfo[]>;
    /** Deploys an app on the apps origin: `POST /{org}/{app}/instances` can then instantiate it. */
    registerApp(app: AppDefinitionInput): Promise<void>;
    createInstance(input: CreateInstanceInput): Promise<CreatedInstance>;
    /** The InstanceResponse the app API would answer, by "{partyId}/{guid}". */
    getInstance(id: string): Promise<Record<string, unknown>>;
    listInstances(): Promise<Record<string, unknown>[]>;
    moveProcess(
        id: string,
        input: MoveProcessInput,
    ): Promise<{ instance: Record<string, unknown>; events: CloudEvent[] }>;
    publishEvent(input: PublishEventInput): Promise<CloudEvent>;
    listEvents(): Promise<CloudEvent[]>;
    /**
     * Sets a data element's fileScanResult, as Altinn's file scan does when its scan ends
     * (PUT storage/api/v1/instances/{partyId}/{instanceGuid}/dataelements/{dataGuid}/filescanstatus
     * in altinn-storage src/Storage/Controllers/DataController.cs SetFileScanStatus, which updates
     * only /fileScanResult: lastChanged stays as it was). Resolves with the element as the app API shows it.
     */
    setFileScanResult(dataElementId: string, fileScanResult: FileScanResult): Promise<Record<string, unknown>>;
    listSubscriptions(): Promise<Subscription[]>;
    listDeliveries(): Promise<DeliveryRecord[]>;
    createFileTransfer(input: CreateFileTransferInput): Promise<FileTransferCreated>;
    listFileTransfers(): Promise<Record<string, unknown>[]>;
    /**
     * Holds Broker's malware scans of uploads (true): they stay UploadProcessing until completeBrokerScan;
     * false lets every later scan report clean after brokerMalwareScanMs, as by default.
     */
    holdBrokerScans(hold: boolean): Promise<void>;
    /** The malware scan of a held upload reports now: Clean publishes, Infected fails and purges it. */
    completeBrokerScan(fileTransferId: string, verdict: ScanVerdict): Promise<Record<string, unknown>>;
    /**
     * What a recipient's own system does with a published file: a whole download (DownloadStarted), then
     * confirmdownload, through the same rules and events as the API. Resolves with the overview.
     */
    recipientConfirms(fileTransferId: string, orgNumber: string): Promise<Record<string, unknown>>;
    /**
     * The transfer reaches its expiry (PurgeFileTransferHandler, FileTransferExpiry): Purged, `filepurged` to the
     * sender, `fileneverconfirmeddownloaded` to each recipient that has not confirmed and then to the sender.
     */
    expireFileTransfer(
        id: string,
        input?: { deliver?: boolean },
    ): Promise<{ overview: Record<string, unknown>; events: CloudEvent[] }>;
    addFault(fault: FaultInput): Promise<Fault>;
    listFaults(): Promise<Fault[]>;
    removeFault(id: string): Promise<void>;
    clearFaults(): Promise<void>;
    counters(): Promise<CountersSnapshot>;
    reset(options?: ResetOptions): Promise<void>;
    /** An Altinn token as the exchange would issue it (for tests of other components, or expired ones). */
    issueAltinnToken(input: IssueTokenInput): Promise<string>;
    /** A Maskinporten access token as /token would issue it. */
    issueMaskinportenToken(input: IssueTokenInput): Promise<string>;
    /** Size, SHA-256 and MD5 of a data element's or file transfer's content. */
    contentDigest(id: string): Promise<ContentDigest>;
}

export class ControlError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

/** Runs a synchronous operation so that its errors become rejections, as they are over HTTP. */
function run<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
        return Promise.resolve(fn());
    } catch (err) {
        return Promise.reject(toControlError(err));
    }
}

function toControlError(err: unknown): Error {
    if (
        err instanceof InstanceInputError ||
        err instanceof FaultInputError ||
        err instanceof ClientRegistrationError ||
        err instanceof FileTransferInputError ||
        err instanceof AppDefinitionError ||
        (err instanceof Error && /^Content needs/.test(err.message))
    ) {
        return new ControlError(400, err.message);
    }
    return err instanceof Error ? err : new Error(String(err));
}

export class Control implements SimulatorControl {
    constructor(private readonly core: SimCore) {}

    info(): Promise<SimulatorInfo> {
        return run(() => ({
            ...this.core.origins,
            org: this.core.options.org,
            orgNumber: this.core.options.orgNumber,
        }));
    }

    registerClient(client: ClientRegistration): Promise<void> {
        return run(() => {
            const registered = toRegisteredClient(client, this.core.options.orgNumber);
            this.core.state.clients.set(registered.clientId, registered);
        });
    }

    listClients(): Promise<ClientInfo[]> {
        return run(() =>
            [...this.core.state.clients.values()].map((c) => ({
                clientId: c.clientId,
                scopes: [...c.scopes],
                orgNumber: c.orgNumber,
                hasCertificate: c.certificate !== undefined,
                kids: [...c.keys.keys()],
            })),
        );
    }

    registerApp(app: AppDefinitionInput): Promise<void> {
        return run(() => {
            registerApp(this.core, app);
        });
    }

    createInstance(input: CreateInstanceInput): Promise<CreatedInstance> {
        return run(() => {
            const { instance, events } = createInstance(this.core, input);
            return createdInstanceSummary(this.core, instance, events);
        });
    }

    private instanceById(id: string) {
        const [partyId, guid] = String(id).split('/');
        const instance = partyId && guid ? this.core.state.instance(partyId, guid) : undefined;
        if (!instance) {
            throw new ControlError(404, `No instance ${id}`);
        }
        return instance;
    }

    getInstance(id: string): Promise<Record<string, unknown>> {
        return run(() => instanceResponseJson(this.core.origins, this.instanceById(id)));
    }

    listInstances(): Promise<Record<string, unknown>[]> {
        return run(() =>
            [...this.core.state.instances.values()].map((i) => instanceResponseJson(this.core.origins, i)),
        );
    }

    moveProcess(
        id: string,
        input: MoveProcessInput,
    ): Promise<{ instance: Record<string, unknown>; events: CloudEvent[] }> {
        return run(() => {
            const instance = this.instanceById(id);
            if (!input || typeof input.to !== 'string' || input.to === '') {
                throw new ControlError(400, "`to` must be 'next', 'completed' or a task id");
            }
            const moved = moveProcess(instance, input.to, 'simulator');
            if ('error' in moved) {
                throw new ControlError(409, moved.error);
            }
            const events =
                input.publish === false
                    ? []
                    : [this.core.publishInstanceEvent(instance, moved.eventType, input.deliver ?? true)];
            return { instance: instanceResponseJson(this.core.origins, instance), events };
        });
    }

    publishEvent(input: PublishEventInput): Promise<CloudEvent> {
        return run(() => {
            const event = input?.event;
            if (!event || typeof event.type !== 'string' || typeof event.source !== 'string') {
                throw new ControlError(400, 'event needs at least type and source');
            }
            return this.core.publish(event, input.deliver ?? true);
        });
    }

    listEvents(): Promise<CloudEvent[]> {
        return run(() => this.core.state.events.map((e) => e.event));
    }

    setFileScanResult(dataElementId: string, fileScanResult: FileScanResult): Promise<Record<string, unknown>> {
        return run(() => {
            const found = this.core.state.findDataElement(String(dataElementId));
            if (!found) {
                throw new ControlError(404, `No data element ${dataElementId}`);
            }
            found.element.fileScanResult = checkFileScanResult(fileScanResult);
            return dataElementJson(this.core.origins, found.instance, found.element, 'app');
        });
    }

    listSubscriptions(): Promise<Subscription[]> {
        return run(() => [...this.core.state.subscriptions.values()].map((s) => ({ ...s })));
    }

    listDeliveries(): Promise<DeliveryRecord[]> {
        return run(() =>
            [...this.core.state.deliveries.values()].map((d) => ({
                ...d,
                attempts: d.attempts.map((a) => ({ ...a })),
            })),
        );
    }

    createFileTransfer(input: CreateFileTransferInput): Promise<FileTransferCreated> {
        return run(async () => {
            try {
                const { transfer, events } = await createFileTransfer(this.core, input);
                return { fileTransferId: transfer.id, overview: fileTransferOverviewJson(transfer), events };
            } catch (err) {
                throw toControlError(err);
            }
        });
    }

    listFileTransfers(): Promise<Record<string, unknown>[]> {
        return run(() => [...this.core.state.fileTransfers.values()].map(fileTransferOverviewJson));
    }

    private transfer(fileTransferId: string) {
        const transfer = this.core.state.fileTransfers.get(String(fileTransferId).toLowerCase());
        if (!transfer) throw new ControlError(404, `No file transfer ${fileTransferId}`);
        return transfer;
    }

    holdBrokerScans(hold: boolean): Promise<void> {
        return run(() => this.core.brokerScans.hold(hold === true));
    }

    completeBrokerScan(fileTransferId: string, verdict: ScanVerdict): Promise<Record<string, unknown>> {
        return run(() => {
            const transfer = this.transfer(fileTransferId);
            if (verdict !== 'Clean' && verdict !== 'Infected')
                throw new ControlError(400, 'verdict is Clean or Infected');
            if (!completeScan(this.core, transfer.id, verdict)) {
                throw new ControlError(409, `No malware scan of ${fileTransferId} is pending`);
            }
            // A clean verdict publishes after computing the checksum; the overview is read once that is done.
            return new Promise<Record<string, unknown>>((resolve) =>
                setImmediate(() => resolve(fileTransferOverviewJson(transfer))),
            );
        });
    }

    recipientConfirms(fileTransferId: string, orgNumber: string): Promise<Record<string, unknown>> {
        return run(() => {
            const transfer = this.transfer(fileTransferId);
            const caller = withPrefix(String(orgNumber));
            const recipient = transfer.recipients.find((r) => r.recipient === caller);
            if (!recipient) throw new ControlError(401, `${orgNumber} is not a recipient of ${fileTransferId}`);
            if (transfer.status !== 'Published' && transfer.status !== 'AllConfirmedDownloaded') {
                throw new ControlError(403, `${fileTransferId} is ${transfer.status}, not ready for download`);
            }
            recordDownloadStarted(recipient, false);
            const outcome = confirmAsRecipient(this.core, transfer, caller);
            if (outcome !== 'confirmed' && outcome !== 'already') throw new ControlError(400, outcome);
            return fileTransferOverviewJson(transfer);
        });
    }

    expireFileTransfer(
        id: string,
        input: { deliver?: boolean } = {},
    ): Promise<{ overview: Record<string, unknown>; events: CloudEvent[] }> {
        return run(() => {
            const transfer = this.core.state.fileTransfers.get(String(id).toLowerCase());
            if (!transfer) throw new ControlError(404, `No file transfer ${id}`);
            const events = expireFileTransfer(this.core, transfer, input.deliver ?? true);
            return { overview: fileTransferOverviewJson(transfer), events };
        });
    }

    addFault(fault: FaultInput): Promise<Fault> {
        return run(() => this.core.faults.add(fault));
    }

    listFaults(): Promise<Fault[]> {
        return run(() => this.core.faults.list());
    }

    removeFault(id: string): Promise<void> {
        return run(() => {
            if (!this.core.faults.remove(id)) {
                throw new ControlError(404, `No fault ${id}`);
            }
        });
    }

    clearFaults(): Promise<void> {
        return run(() => this.core.faults.clear());
    }

    counters(): Promise<CountersSnapshot> {
        return run(() => this.core.counters.snapshot(this.core.state.deliveries.values()));
    }

    reset(options: ResetOptions = {}): Promise<void> {
        return run(() => {
            this.core.delivery.clear();
            this.core.brokerScans.stop();
            this.core.state.reset(!options.clients);
            this.core.counters.reset();
            this.core.faults.clear();
        });
    }

    private tokenInput(input: IssueTokenInput): { orgNumber: string; now: number; exp: number; scope: string } {
        if (!input || !Array.isArray(input.scopes)) {
            throw new ControlError(400, 'scopes (an array) is required');
        }
        const orgNumber = input.orgNumber ?? this.core.options.orgNumber;
        const now = nowSeconds();
        return { orgNumber, now, exp: now + (input.expiresInSeconds ?? 600), scope: input.scopes.join(' ') };
    }

    issueAltinnToken(input: IssueTokenInput): Promise<string> {
        return run(() => {
            const { orgNumber, now, exp, scope } = this.tokenInput(input);
            const org =
                input.org === null
                    ? undefined
                    : (input.org ??
                      (scope.includes('altinn:serviceowner') ? this.core.orgForNumber(orgNumber) : undefined));
            return this.core.tokens.issueAltinn({
                scope,
                token_type: 'Bearer',
                client_id: input.clientId ?? 'simulator',
                consumer: consumerClaim(orgNumber),
                ...(org ? { 'urn:altinn:org': org } : {}),
                'urn:altinn:orgNumber': orgNumber,
                'urn:altinn:authenticatemethod': 'maskinporten',
                'urn:altinn:authlevel': 3,
                sid: randomUUID(),
                jti: randomUUID(),
                iat: Math.min(now, exp - 1),
                nbf: Math.min(now, exp - 1),
                exp,
            });
        });
    }

    issueMaskinportenToken(input: IssueTokenInput): Promise<string> {
        return run(() => {
            const { orgNumber, now, exp, scope } = this.tokenInput(input);
            return this.core.tokens.issueMaskinporten({
                client_amr: 'private_key_jwt',
                token_type: 'Bearer',
                scope,
                client_id: input.clientId ?? 'simulator',
                consumer: consumerClaim(orgNumber),
                iat: Math.min(now, exp - 1),
                exp,
                jti: randomUUID(),
            });
        });
    }

    contentDigest(id: string): Promise<ContentDigest> {
        return run(async () => {
            const key = String(id).toLowerCase();
            const source =
                this.core.state.fileTransfers.get(key)?.content ??
                this.core.state.findDataElement(key)?.element.content;
            if (!source) {
                throw new ControlError(404, `No data element or file transfer ${id}`);
            }
            const [sha256, md5] = await Promise.all([digestContent(source, 'sha256'), digestContent(source, 'md5')]);
            return { id: key, size: contentSize(source), sha256, md5 };
        });
    }
}

type Op = (control: Control, body: unknown, params: Record<string, string>) => Promise<unknown>;

const ops: { method: string; path: string; op: Op; status?: number }[] = [
    { method: 'GET', path: '/sim', op: (c) => c.info() },
    { method: 'POST', path: '/sim/clients', op: (c, b) => c.registerClient(b as ClientRegistration), status: 204 },
    { method: 'GET', path: '/sim/clients', op: (c) => c.listClients() },
    { method: 'POST', path: '/sim/apps', op: (c, b) => c.registerApp(b as AppDefinitionInput), status: 204 },
    { method: 'POST', path: '/sim/instances', op: (c, b) => c.createInstance(b as CreateInstanceInput), status: 201 },
    { method: 'GET', path: '/sim/instances', op: (c) => c.listInstances() },
    {
        method: 'GET',
        path: '/sim/instances/{partyId}/{guid}',
        op: (c, _b, p) => c.getInstance(`${p.partyId}/${p.guid}`),
    },
    {
        method: 'POST',
        path: '/sim/instances/{partyId}/{guid}/process',
        op: (c, b, p) => c.moveProcess(`${p.partyId}/${p.guid}`, b as MoveProcessInput),
    },
    { method: 'POST', path: '/sim/events', op: (c, b) => c.publishEvent(b as PublishEventInput), status: 201 },
    { method: 'GET', path: '/sim/events', op: (c) => c.listEvents() },
    {
        method: 'POST',
        path: '/sim/dataelements/{id}/filescanresult',
        op: (c, b, p) => c.setFileScanResult(p.id, (b as { fileScanResult: FileScanResult }).fileScanResult),
    },
    { method: 'GET', path: '/sim/subscriptions', op: (c) => c.listSubscriptions() },
    { method: 'GET', path: '/sim/deliveries', op: (c) => c.listDeliveries() },
    {
        method: 'POST',
        path: '/sim/broker/filetransfers',
        op: (c, b) => c.createFileTransfer(b as CreateFileTransferInput),
        status: 201,
    },
    { method: 'GET', path: '/sim/broker/filetransfers', op: (c) => c.listFileTransfers() },
    {
        method: 'POST',
        path: '/sim/broker/scans',
        op: (c, b) => c.holdBrokerScans((b as { hold?: boolean }).hold === true),
        status: 204,
    },
    {
        method: 'POST',
        path: '/sim/broker/filetransfers/{id}/scan',
        op: (c, b, p) => c.completeBrokerScan(p.id, (b as { verdict: ScanVerdict }).verdict),
    },
    {
        method: 'POST',
        path: '/sim/broker/filetransfers/{id}/recipients/{orgNumber}/confirm',
        op: (c, _b, p) => c.recipientConfirms(p.id, p.orgNumber),
    },
    {
        method: 'POST',
        path: '/sim/broker/filetransfers/{id}/expire',
        op: (c, b, p) => c.expireFileTransfer(p.id, b as { deliver?: boolean }),
    },
    { method: 'POST', path: '/sim/faults', op: (c, b) => c.addFault(b as FaultInput), status: 201 },
    { method: 'GET', path: '/sim/faults', op: (c) => c.listFaults() },
    { method: 'DELETE', path: '/sim/faults', op: (c) => c.clearFaults(), status: 204 },
    { method: 'DELETE', path: '/sim/faults/{id}', op: (c, _b, p) => c.removeFault(p.id), status: 204 },
    { method: 'GET', path: '/sim/counters', op: (c) => c.counters() },
    { method: 'POST', path: '/sim/reset', op: (c, b) => c.reset(b as ResetOptions), status: 204 },
    {
        method: 'POST',
        path: '/sim/tokens/altinn',
        op: async (c, b) => ({ token: await c.issueAltinnToken(b as IssueTokenInput) }),
    },
    {
        method: 'POST',
        path: '/sim/tokens/maskinporten',
        op: async (c, b) => ({ token: await c.issueMaskinportenToken(b as IssueTokenInput) }),
    },
    { method: 'GET', path: '/sim/content/{id}/digest', op: (c, _b, p) => c.contentDigest(p.id) },
];

export function controlRoutes(control: Control): RouteDefinition[] {
    return ops.map(({ method, path, op, status }) => ({
        listener: 'platform',
        method,
        path,
        endpoint: 'sim',
        handler: async (ctx: RequestContext) => {
            let body: unknown;
            try {
                body = method === 'POST' ? await readJson(ctx.req) : undefined;
            } catch {
                sendJson(ctx.res, 400, { error: 'Body is not valid JSON' });
                return;
            }
            try {
                const result = await op(control, body ?? {}, ctx.params);
                if (status === 204) {
                    sendEmpty(ctx.res, 204);
                } else {
                    sendJson(ctx.res, status ?? 200, result);
                }
            } catch (err) {
                if (err instanceof ControlError) {
                    sendJson(ctx.res, err.status, { error: err.message });
                    return;
                }
                throw err;
            }
        },
    }));
}
