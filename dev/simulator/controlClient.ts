import { type ScanVerdict } from './brokerScans';
import { type ClientInfo, type FileTransferCreated, type SimulatorControl, type SimulatorInfo } from './control';
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
    type FaultInput,
    type FileScanResult,
    type IssueTokenInput,
    type MoveProcessInput,
    type PublishEventInput,
    type ResetOptions,
    type Subscription,
} from './types';

/** The control API over HTTP, for a simulator in another process (e.g. `npm run sim`). */
export class HttpControlClient implements SimulatorControl {
    constructor(private readonly platformUrl: string) {}

    private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
        const response = await fetch(`${this.platformUrl}${path}`, {
            method,
            headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        if (!response.ok) {
            let message = text;
            try {
                message = (JSON.parse(text) as { error?: string }).error ?? text;
            } catch {
                // not JSON
            }
            throw new Error(`${method} ${path}: ${response.status} ${message}`);
        }
        return (text === '' ? undefined : JSON.parse(text)) as T;
    }

    info(): Promise<SimulatorInfo> {
        return this.call('GET', '/sim');
    }
    registerClient(client: ClientRegistration): Promise<void> {
        return this.call('POST', '/sim/clients', client);
    }
    listClients(): Promise<ClientInfo[]> {
        return this.call('GET', '/sim/clients');
    }
    registerApp(app: AppDefinitionInput): Promise<void> {
        return this.call('POST', '/sim/apps', app);
    }
    createInstance(input: CreateInstanceInput): Promise<CreatedInstance> {
        return this.call('POST', '/sim/instances', input);
    }
    getInstance(id: string): Promise<Record<string, unknown>> {
        return this.call('GET', `/sim/instances/${id}`);
    }
    listInstances(): Promise<Record<string, unknown>[]> {
        return this.call('GET', '/sim/instances');
    }
    moveProcess(
        id: string,
        input: MoveProcessInput,
    ): Promise<{ instance: Record<string, unknown>; events: CloudEvent[] }> {
        return this.call('POST', `/sim/instances/${id}/process`, input);
    }
    setFileScanResult(dataElementId: string, fileScanResult: FileScanResult): Promise<Record<string, unknown>> {
        return this.call('POST', `/sim/dataelements/${dataElementId}/filescanresult`, { fileScanResult });
    }
    publishEvent(input: PublishEventInput): Promise<CloudEvent> {
        return this.call('POST', '/sim/events', input);
    }
    listEvents(): Promise<CloudEvent[]> {
        return this.call('GET', '/sim/events');
    }
    listSubscriptions(): Promise<Subscription[]> {
        return this.call('GET', '/sim/subscriptions');
    }
    listDeliveries(): Promise<DeliveryRecord[]> {
        return this.call('GET', '/sim/deliveries');
    }
    createFileTransfer(input: CreateFileTransferInput): Promise<FileTransferCreated> {
        return this.call('POST', '/sim/broker/filetransfers', input);
    }
    listFileTransfers(): Promise<Record<string, unknown>[]> {
        return this.call('GET', '/sim/broker/filetransfers');
    }
    holdBrokerScans(hold: boolean): Promise<void> {
        return this.call('POST', '/sim/broker/scans', { hold });
    }
    completeBrokerScan(fileTransferId: string, verdict: ScanVerdict): Promise<Record<string, unknown>> {
        return this.call('POST', `/sim/broker/filetransfers/${fileTransferId}/scan`, { verdict });
    }
    recipientConfirms(fileTransferId: string, orgNumber: string): Promise<Record<string, unknown>> {
        return this.call('POST', `/sim/broker/filetransfers/${fileTransferId}/recipients/${orgNumber}/confirm`, {});
    }
    expireFileTransfer(
        id: string,
        input: { deliver?: boolean } = {},
    ): Promise<{ overview: Record<string, unknown>; events: CloudEvent[] }> {
        return this.call('POST', `/sim/broker/filetransfers/${id}/expire`, input);
    }
    addFault(fault: FaultInput): Promise<Fault> {
        return this.call('POST', '/sim/faults', fault);
    }
    listFaults(): Promise<Fault[]> {
        return this.call('GET', '/sim/faults');
    }
    removeFault(id: string): Promise<void> {
        return this.call('DELETE', `/sim/faults/${id}`);
    }
    clearFaults(): Promise<void> {
        return this.call('DELETE', '/sim/faults');
    }
    counters(): Promise<CountersSnapshot> {
        return this.call('GET', '/sim/counters');
    }
    reset(options: ResetOptions = {}): Promise<void> {
        return this.call('POST', '/sim/reset', options);
    }
    async issueAltinnToken(input: IssueTokenInput): Promise<string> {
        return (await this.call<{ token: string }>('POST', '/sim/tokens/altinn', input)).token;
    }
    async issueMaskinportenToken(input: IssueTokenInput): Promise<string> {
        return (await this.call<{ token: string }>('POST', '/sim/tokens/maskinporten', input)).token;
    }
    contentDigest(id: string): Promise<ContentDigest> {
        return this.call('GET', `/sim/content/${id}/digest`);
    }
}
