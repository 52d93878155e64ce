/**
 * App-wide setup, loaded by the Functions host before the function files (package.json main).
 */
import { app } from '@azure/functions';
import { getConfig } from './shared/config';
import { checkMemory, findAppRoot } from './shared/memory/startup';

app.setup({ enableHttpStream: false });

// Node builds some of its globals on first use. @azure/functions turns every HTTP invocation into a
// fetch Request and its answer into a Response (Node's own bundled undici, some 15 ms), and the Azure
// SDKs name every storage request with crypto.randomUUID() (webcrypto). Built now, while the worker
// loads the app, they do not hold up the first webhook's answer.
void globalThis.Request;
void globalThis.crypto;

// Once per process, in its first invocation (whose logger reaches Application Insights): does the
// instance's memory hold the worst case of the configured concurrency? (shared/memory)
let memoryChecked = false;
app.hook.preInvocation((context) => {
    if (memoryChecked) return;
    memoryChecked = true;
    try {
        checkMemory(context.invocationContext, findAppRoot(__dirname), getConfig());
    } catch {
        // A setting the config refuses: the invocation itself reports it, naming the setting.
    }
});
