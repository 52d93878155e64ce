import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevClient } from '../../dev/devClient';
import { SERVICEOWNER_SCOPES, createClientCredentials } from './simulator';

/**
 * What a test of dev/chaos scenarios needs before it runs one: a work folder (removed after the
 * suite) and a Maskinporten client with a fresh key and certificate, as `npm run chaos` makes one.
 * Call in the suite's top level; read `workDir` and `client` inside the tests.
 */
export function useChaosFolder(name: string): { readonly workDir: string; readonly client: DevClient } {
    const state = {} as { workDir: string; client: DevClient };
    beforeAll(() => {
        state.workDir = mkdtempSync(join(tmpdir(), `aos-${name}-`));
        const creds = createClientCredentials(`${name}-client`);
        state.client = {
            clientId: creds.clientId,
            scopes: SERVICEOWNER_SCOPES,
            maskinportenKey: `${creds.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()}${creds.certificatePem}`,
            certificatePem: creds.certificatePem,
        };
    });
    afterAll(() => {
        if (state.workDir) rmSync(state.workDir, { recursive: true, force: true });
    });
    return state;
}
