import { type CountersSnapshot, type DeliveryRecord, type Listener } from './types';

/** Calls made to the simulator, for tests that assert "fetched once", "no token went there", "completed once". */
export class Counters {
    private requests = new Map<string, Map<string, number>>();
    private bytes = new Map<string, number>();
    private contentBytes = new Map<string, number>();
    private authorizationHeaders: Record<Listener, number> = { platform: 0, apps: 0, maskinporten: 0 };
    private grantsByClient = new Map<string, number>();
    private completes = new Map<string, number>();
    private instanceReads = new Map<string, number>();
    private faultsApplied = new Map<string, number>();
    grantsIssued = 0;
    grantsRejected = 0;
    exchanges = 0;

    reset(): void {
        this.requests.clear();
        this.bytes.clear();
        this.contentBytes.clear();
        this.authorizationHeaders = { platform: 0, apps: 0, maskinporten: 0 };
        this.grantsByClient.clear();
        this.completes.clear();
        this.instanceReads.clear();
        this.faultsApplied.clear();
        this.grantsIssued = 0;
        this.grantsRejected = 0;
        this.exchanges = 0;
    }

    request(endpoint: string, status: string): void {
        const byStatus = this.requests.get(endpoint) ?? new Map<string, number>();
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
        this.requests.set(endpoint, byStatus);
    }

    bodyBytes(endpoint: string, contentKey: string | undefined, n: number): void {
        this.bytes.set(endpoint, (this.bytes.get(endpoint) ?? 0) + n);
        if (contentKey) {
            this.contentBytes.set(contentKey, (this.contentBytes.get(contentKey) ?? 0) + n);
        }
    }

    authorization(listener: Listener): void {
        this.authorizationHeaders[listener] += 1;
    }

    grant(clientId: string): void {
        this.grantsIssued += 1;
        this.grantsByClient.set(clientId, (this.grantsByClient.get(clientId) ?? 0) + 1);
    }

    complete(instanceId: string): void {
        this.completes.set(instanceId, (this.completes.get(instanceId) ?? 0) + 1);
    }

    instanceRead(instanceId: string): void {
        this.instanceReads.set(instanceId, (this.instanceReads.get(instanceId) ?? 0) + 1);
    }

    fault(endpoint: string): void {
        this.faultsApplied.set(endpoint, (this.faultsApplied.get(endpoint) ?? 0) + 1);
    }

    snapshot(deliveries: Iterable<DeliveryRecord>): CountersSnapshot {
        const byStatus: Record<string, Record<string, number>> = {};
        for (const [endpoint, statuses] of this.requests) {
            byStatus[endpoint] = Object.fromEntries(statuses);
        }
        const deliveryCounters: CountersSnapshot['deliveries'] = {};
        for (const record of deliveries) {
            const key = String(record.subscriptionId);
            deliveryCounters[key] ??= {};
            deliveryCounters[key][record.eventId] = {
                attempts: record.attempts.length,
                statuses: record.attempts.map((a) => a.status ?? a.error ?? 'error'),
                state: record.state,
            };
        }
        return {
            requests: byStatus,
            bytes: Object.fromEntries(this.bytes),
            contentBytes: Object.fromEntries(this.contentBytes),
            authorizationHeaders: { ...this.authorizationHeaders },
            grantsIssued: this.grantsIssued,
            grantsRejected: this.grantsRejected,
            grantsByClient: Object.fromEntries(this.grantsByClient),
            exchanges: this.exchanges,
            completes: Object.fromEntries(this.completes),
            instanceReads: Object.fromEntries(this.instanceReads),
            faultsApplied: Object.fromEntries(this.faultsApplied),
            deliveries: deliveryCounters,
        };
    }
}
