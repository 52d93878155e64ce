/**
 * The Events catch-up keeps one cursor per app in aos-state (shared/catchUp/cursor.ts); when it
 * last moved says when the catch-up last queued something for that app.
 */
import { containers } from '../names';
import type { Storage } from '../storage';
import { readText, storageStatus } from '../subscriptions/blobs';
import type { CatchUpCursorStatus } from './report';

const prefix = 'catch-up/';

export async function catchUpCursorStatuses(storage: Storage): Promise<CatchUpCursorStatus[]> {
    const container = storage.container(containers.state);
    const names: string[] = [];
    try {
        for await (const blob of container.listBlobsFlat({ prefix })) {
            if (blob.name.endsWith('.json')) names.push(blob.name);
        }
    } catch (error) {
        if (storageStatus(error) !== 404) throw error; // no aos-state yet: no cursor yet
    }
    return Promise.all(
        names.map(async (name) => {
            const app = name.slice(prefix.length, -'.json'.length);
            const text = await readText(container.getBlobClient(name));
            try {
                const cursor = JSON.parse(text ?? '{}') as { after?: unknown; from?: unknown; updated?: unknown };
                return {
                    app,
                    updated: typeof cursor.updated === 'string' && cursor.updated !== '' ? cursor.updated : undefined,
                    after: typeof cursor.after === 'string' ? cursor.after : undefined,
                    from: typeof cursor.from === 'string' ? cursor.from : undefined,
                };
            } catch {
                return { app };
            }
        }),
    );
}
