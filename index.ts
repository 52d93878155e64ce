/**
 * App-wide setup, loaded by the Functions host before the function files (package.json main).
 */
import { app } from '@azure/functions';
import { getConfig } from './shared/config';
import { checkMemory, findAppRoot } from './shared/memory/startup';

app.setup({ enableHttpStream: false });

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
