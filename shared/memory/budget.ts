/**
 * Whether one instance's memory holds the worst case of the configured concurrency. The arithmetic
 * (docs/deploy.md, "Memory"):
 *
 *   queue concurrency  = batchSize + newBatchThreshold   per queue function and instance (host.json;
 *                        learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json)
 *   elements           = queue concurrency × DownloadConcurrency   data elements EventsProcessor may start
 *   streams            = min(elements, 2 × connections per origin)  a download waiting for one of the Altinn
 *                        client's connections (shared/altinn/http.ts) holds no buffer yet; an element whose body
 *                        has been read frees its connection while its last blocks still upload, so up to two
 *                        elements per connection hold buffers
 *   element buffers    = streams × bufferSize × (maxConcurrency + 1)  (shared/instances/store.ts: 4 MiB × 3)
 *   Broker buffers     = queue concurrency × 2 × 8 MiB   BrokerProcessor's two block buffers per file
 *                        (shared/broker/download.ts), held from the start of each download
 *   worst case         = baseline + element buffers + Broker buffers
 *
 * The baseline is the Node worker at rest with its libraries and the Functions host beside it.
 */
import { MAX_CONNECTIONS_PER_ORIGIN } from '../altinn/http';
import { DEFAULT_CHUNK_BYTES } from '../broker/download';
import { defaultUploadOptions } from '../instances/store';

const MiB = 1024 * 1024;

/** The Node worker at rest (BENCHMARKS.md: about 100 MiB resident) and the Functions host process. */
export const baselineMiB = 256;
/** Upload buffers of one element streamed in blocks: two blocks in flight and one filling. */
export const elementBufferMiB = (defaultUploadOptions.bufferSize * (defaultUploadOptions.maxConcurrency + 1)) / MiB;
/** Block buffers of one Broker download: one filled while the other is written. */
export const brokerBufferMiB = (2 * DEFAULT_CHUNK_BYTES) / MiB;
/** Elements holding buffers per connection: one streaming, one finishing its upload. */
const elementsPerConnection = 2;

export interface MemoryInputs {
    /** host.json extensions.queues.batchSize. */
    batchSize: number;
    /** host.json extensions.queues.newBatchThreshold. */
    newBatchThreshold: number;
    /** DownloadConcurrency. */
    downloadConcurrency: number;
    /** The instance's memory (InstanceMemoryMB, or what the process may use). */
    instanceMemoryMB: number;
}

export interface MemoryBudget extends MemoryInputs {
    queueConcurrency: number;
    elementsAtOnce: number;
    streamsAtOnce: number;
    elementBuffersMiB: number;
    brokerBuffersMiB: number;
    baselineMiB: number;
    worstCaseMiB: number;
    fits: boolean;
}

export function memoryBudget(inputs: MemoryInputs): MemoryBudget {
    const queueConcurrency = inputs.batchSize + inputs.newBatchThreshold;
    const elementsAtOnce = queueConcurrency * inputs.downloadConcurrency;
    const streamsAtOnce = Math.min(elementsAtOnce, elementsPerConnection * MAX_CONNECTIONS_PER_ORIGIN);
    const elementBuffersMiB = streamsAtOnce * elementBufferMiB;
    const brokerBuffersMiB = queueConcurrency * brokerBufferMiB;
    const worstCaseMiB = baselineMiB + elementBuffersMiB + brokerBuffersMiB;
    return {
        ...inputs,
        queueConcurrency,
        elementsAtOnce,
        streamsAtOnce,
        elementBuffersMiB,
        brokerBuffersMiB,
        baselineMiB,
        worstCaseMiB,
        fits: worstCaseMiB <= inputs.instanceMemoryMB,
    };
}
