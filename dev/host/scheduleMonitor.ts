/**
 * The timer's schedule status in the host's storage, as the Functions host keeps it when a timer
 * uses the monitor (azure-webjobs-sdk-extensions,
 * src/WebJobs.Extensions/Extensions/Timers/Scheduling/StorageScheduleMonitor.cs): the blob
 * `azure-webjobs-hosts/timers/{hostId}/{timerName}/status` holds `{"Last","Next","LastUpdated"}`.
 * Whichever instance holds the timer's lock reads it when it starts listening, so an occurrence
 * that fell due while no instance listened (a restart, a lock changing hands) runs at once, past
 * due, instead of being skipped (TimerListener.StartAsync).
 */
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { hostsContainer } from './blobLocks';

export interface ScheduleStatus {
    Last: string;
    Next: string;
    LastUpdated: string;
}

export class ScheduleMonitor {
    readonly #container: ContainerClient;

    constructor(
        blobService: BlobServiceClient,
        private readonly hostId: string,
    ) {
        this.#container = blobService.getContainerClient(hostsContainer);
    }

    /** The recorded status, or undefined before the first occurrence was recorded. */
    async read(timerName: string): Promise<ScheduleStatus | undefined> {
        try {
            const buffer = await this.blob(timerName).downloadToBuffer();
            const parsed = JSON.parse(buffer.toString('utf8')) as Partial<ScheduleStatus>;
            if (typeof parsed.Last !== 'string' || typeof parsed.Next !== 'string') return undefined;
            return { Last: parsed.Last, Next: parsed.Next, LastUpdated: parsed.LastUpdated ?? parsed.Last };
        } catch (error) {
            if ((error as { statusCode?: number }).statusCode === 404) return undefined;
            throw error;
        }
    }

    async write(timerName: string, status: ScheduleStatus): Promise<void> {
        const text = JSON.stringify(status);
        const upload = () => this.blob(timerName).upload(text, Buffer.byteLength(text));
        try {
            await upload();
        } catch (error) {
            if ((error as { statusCode?: number }).statusCode !== 404) throw error;
            await this.#container.createIfNotExists();
            await upload();
        }
    }

    private blob(timerName: string) {
        return this.#container.getBlockBlobClient(`timers/${this.hostId}/${timerName}/status`);
    }
}
