import { type Simulator } from '../../dev/simulator/simulator';
import { startAzurite, type AzuriteInstance } from './azurite';
import { quickQueueSettings, repoRoot, startHostProcess, type HostProcess } from './host';
import {
    clientRegistration,
    clientSettings,
    createClientCredentials,
    startTestSimulator,
    SERVICEOWNER_SCOPES,
} from './simulator';

/**
 * The pipeline as deployed, for tests that go through the host: a private Azurite, the simulator
 * with a registered Maskinporten client, and the project's own functions in the local host (a
 * child process) with quick queue retries (quickQueueSettings) and `env` on top. Needs `npm run build`.
 */
export interface PipelineHost {
    azurite: AzuriteInstance;
    sim: Simulator;
    host: HostProcess;
    stop(): Promise<void>;
}

export async function startPipelineHost(env: Record<string, string> = {}): Promise<PipelineHost> {
    const [azurite, sim] = await Promise.all([startAzurite(), startTestSimulator()]);
    let host: HostProcess;
    try {
        const creds = createClientCredentials();
        await sim.control.registerClient(clientRegistration(creds, SERVICEOWNER_SCOPES));
        host = await startHostProcess({
            appRoot: repoRoot,
            env: {
                AzureWebJobsStorage: azurite.connectionString,
                ...clientSettings(sim, creds, SERVICEOWNER_SCOPES),
                ...quickQueueSettings,
                ...env,
            },
        });
    } catch (error) {
        await Promise.all([sim.stop(), azurite.stop()]);
        throw error;
    }
    return {
        azurite,
        sim,
        host,
        async stop() {
            await host.stop(10_000);
            await Promise.all([sim.stop(), azurite.stop()]);
        },
    };
}
