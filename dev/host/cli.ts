#!/usr/bin/env node
/**
 * `node dist/dev/host/cli.js [--port <n>] [--app <dir>] [--verbose]` (or `npm run host`):
 * runs the function app in <dir> (default: the current directory) like `func start`, on the
 * port given, else local.settings.json Host.LocalHttpPort, else 7071.
 * Prints `Host started (<n>ms)` once everything listens. SIGINT/SIGTERM stop it gracefully:
 * no new triggers, in-flight invocations finish (up to 30 s), then exit 0; a second signal
 * exits at once.
 */
import { randomUUID } from 'node:crypto';
import { startHost, type RunningHost } from './host';
import { LocalSettingsError } from '../../shared/localSettings';
import { HostStartupError, errorMessage, hostStartupErrorLine } from './log';

interface CliOptions {
    /** Undefined: local.settings.json Host.LocalHttpPort, else 7071. */
    port: number | undefined;
    app: string;
    verbose: boolean;
}

const usage = 'Usage: node dist/dev/host/cli.js [--port <n>] [--app <dir>] [--verbose]';

function parseArgs(args: readonly string[]): CliOptions {
    const options: CliOptions = { port: undefined, app: process.cwd(), verbose: false };
    for (let index = 0; index < args.length; index++) {
        const arg = args[index];
        const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
        const value = (): string => {
            const next = inline ?? args[++index];
            if (next === undefined) throw new HostStartupError(`${flag} needs a value. ${usage}`);
            return next;
        };
        switch (flag) {
            case '--port':
            case '-p': {
                const port = Number(value());
                if (!Number.isInteger(port) || port < 0 || port > 65535) {
                    throw new HostStartupError(`--port must be a port number. ${usage}`);
                }
                options.port = port;
                break;
            }
            case '--app':
            case '--script-root':
                options.app = value();
                break;
            case '--verbose':
                options.verbose = true;
                break;
            case '--help':
            case '-h':
                process.stdout.write(`${usage}\n`);
                process.exit(0);
                break;
            default:
                throw new HostStartupError(`Unknown argument '${arg}'. ${usage}`);
        }
    }
    return options;
}

async function main(): Promise<void> {
    // An app error that escapes every invocation ends the process, as it ends the Node worker in Azure.
    process.on('uncaughtException', (error) => {
        process.stdout.write(`Worker uncaught exception: ${error.stack ?? errorMessage(error)}\n`);
        process.exit(1);
    });

    const options = parseArgs(process.argv.slice(2));
    // The signal handlers are installed before start-up finishes, so they find the host here.
    const state: { host?: RunningHost } = {};
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
        if (signalled) {
            process.stdout.write(`${signal} again: exiting without waiting.\n`);
            process.exit(130);
        }
        signalled = true;
        if (!state.host) process.exit(0);
        state.host.stop().then(
            () => process.exit(0),
            (error: unknown) => {
                process.stdout.write(`Stopping failed: ${errorMessage(error)}\n`);
                process.exit(1);
            },
        );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    state.host = await startHost({ appRoot: options.app, port: options.port, verbose: options.verbose });
}

main().catch((error: unknown) => {
    const detail =
        error instanceof HostStartupError || error instanceof LocalSettingsError
            ? error.message
            : error instanceof Error
              ? (error.stack ?? error.message)
              : errorMessage(error);
    process.stderr.write(`${hostStartupErrorLine(randomUUID())}\nHost start failed: ${detail}\n`);
    process.exit(1);
});
