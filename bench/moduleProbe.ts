/**
 * `node --require dist/bench/moduleProbe.js dist/dev/host/cli.js ...` with AOS_MODULE_PROBE=<file>:
 * records what the host process loads between the `Registered` line (the app's code is loaded) and
 * the end of the first invocation of AOS_MODULE_PROBE_FUNCTION (default EventsReceiver), and writes
 * it to <file> as JSON: Node built-ins (process.moduleLoadList) and files (require.cache). Whatever
 * is there is work the first webhook did that the code load left to it: in the deployment package,
 * a deferred file (dev/package/deferred.ts) or a built-in that the load should have built
 * (bench/coldStart.ts prints it; test/integration/package asserts that there is nothing).
 * It watches the host's output lines, so it measures nothing else and changes nothing.
 */
import { writeFileSync } from 'node:fs';
import { functionsRegisteredPattern } from '../dev/host/host';

export interface ModuleProbeResult {
    /** `NativeModule x` / `Internal Binding y` entries, in load order. */
    builtins: string[];
    /** Absolute paths of the files required. */
    files: string[];
}

const file = process.env.AOS_MODULE_PROBE;
const functionName = process.env.AOS_MODULE_PROBE_FUNCTION || 'EventsReceiver';

/** Node's list of the built-ins it has loaded: undocumented, but in every release since 0.x; only this probe reads it. */
const loadedBuiltins = (): string[] => (process as unknown as { moduleLoadList: string[] }).moduleLoadList;

if (file) {
    let builtinsBefore = 0;
    let filesBefore: Set<string> | undefined;
    let written = false;
    const stdout = process.stdout as unknown as { write: (chunk: unknown, ...rest: unknown[]) => boolean };
    const write = stdout.write.bind(stdout);
    stdout.write = (chunk: unknown, ...rest: unknown[]): boolean => {
        const text = String(chunk);
        if (filesBefore === undefined && functionsRegisteredPattern.test(text)) {
            builtinsBefore = loadedBuiltins().length;
            filesBefore = new Set(Object.keys(require.cache));
        } else if (!written && filesBefore && text.includes(`Executed 'Functions.${functionName}'`)) {
            written = true;
            const before = filesBefore;
            const result: ModuleProbeResult = {
                builtins: loadedBuiltins().slice(builtinsBefore),
                files: Object.keys(require.cache).filter((path) => !before.has(path)),
            };
            writeFileSync(file, JSON.stringify(result));
        }
        return write(chunk, ...rest);
    };
}
