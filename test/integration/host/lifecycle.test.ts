import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startAzurite, type AzuriteInstance } from '../../support/azurite';
import { repoRoot, runHostUntilExit, startHostProcess, type HostProcess } from '../../support/host';
import { fixtureApp } from './fixture';

jest.setTimeout(60_000);

let azurite: AzuriteInstance;
let host: HostProcess;

beforeAll(async () => {
    azurite = await startAzurite();
    host = await startHostProcess({
        appRoot: fixtureApp,
        env: {
            AzureWebJobsStorage: azurite.connectionString,
            FixtureGreeting: 'from-env',
            FUNCTIONS_REQUEST_BODY_SIZE_LIMIT: '1000000',
        },
    });
});

afterAll(async () => {
    await host?.kill();
    await azurite?.stop();
});

test('discovers exactly the functions registered by the files package.json main matches, index first', () => {
    const output = host.output();
    expect(output).toMatch(
        /Loading index\.js, functions\/blob\.js, functions\/http\.js, functions\/queue\.js, functions\/timer\.js \(package\.json main "\{index\.js,functions\/\*\.js\}"\)/,
    );
    const listed = [...output.matchAll(/^ {8}(\w+): /gm)].map((match) => match[1]).sort();
    expect(listed).toEqual(
        [
            'BlobRecorder',
            'Bytes',
            'CreateItem',
            'Echo',
            'Enqueue',
            'Fail',
            'GetItem',
            'Hello',
            'Nothing',
            'QueueConcurrency',
            'QueueFlaky',
            'QueueForward',
            'QueueRecorder',
            'Settings',
            'Slow',
            'SpecialItem',
            'StartupTimer',
            'Ticker',
        ].sort(),
    );
    expect(output).toContain(`Hello: [GET,POST] ${host.url}/api/Hello`);
    expect(output).toContain(`GetItem: [GET] ${host.url}/api/items/{id}`);
    expect(output).toContain("QueueRecorder: queueTrigger (queue 'records')");
    expect(output).toContain("BlobRecorder: blobTrigger (path 'uploads/{name}.json')");
    expect(output).toMatch(/FIXTURE appStart hookData=number/);
    expect(output).not.toContain('NotLoaded');
});

test('files outside main are not loaded: their routes do not exist', async () => {
    expect((await fetch(`${host.url}/api/NotLoaded`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/NotLoadedHelper`)).status).toBe(404);
});

test('the environment wins over local.settings.json, whose other Values still reach the app', async () => {
    const response = await fetch(`${host.url}/api/settings`);
    expect(await response.json()).toEqual({ FixtureGreeting: 'from-env', OnlyInLocalSettings: 'local-value' });
});

test('request bodies over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT get 413 without invoking the function', async () => {
    const mark = host.output().length;
    const response = await fetch(`${host.url}/api/echo`, { method: 'POST', body: Buffer.alloc(1_500_000, 1) });
    expect(response.status).toBe(413);
    expect(host.output().slice(mark)).not.toContain("Executing 'Functions.Echo'");
    const small = await fetch(`${host.url}/api/echo`, { method: 'POST', body: Buffer.alloc(900_000, 1) });
    expect(small.headers.get('x-length')).toBe('900000');
});

test('the admin API reports the host status', async () => {
    const response = await fetch(`${host.url}/admin/host/status`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ state: 'Running' });
});

test('SIGTERM lets in-flight invocations finish, runs appTerminate, exits 0 and leaves no process', async () => {
    const slow = fetch(`${host.url}/api/slow?ms=1500`);
    await host.waitForOutput(/FIXTURE Slow start/);
    const stopped = Date.now();
    const exit = await host.stop();
    const response = await slow;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('slow done');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(1_000);
    const tail = host.output().slice(host.output().indexOf('Stopping host'));
    expect(tail).toMatch(/Executed 'Functions\.Slow' \(Succeeded[\s\S]*FIXTURE appTerminate[\s\S]*Host stopped/);
    // Signal 0 only checks that the process exists.
    expect(() => process.kill(host.pid, 0)).toThrow(/ESRCH/);
});

test('package.json main that matches nothing stops start-up with a clear message', async () => {
    const result = await runHostUntilExit({
        appRoot: join(fixtureApp, 'no-main-match'),
        env: { AzureWebJobsStorage: azurite.connectionString },
    });
    expect(result.code).toBe(1);
    expect(result.output).toContain('package.json "main" ("dist/{index.js,functions/*.js}") matches no files in');
});

test('an unsupported binding stops start-up naming the function and the binding type', async () => {
    const result = await runHostUntilExit({
        appRoot: join(fixtureApp, 'unsupported'),
        env: { AzureWebJobsStorage: azurite.connectionString },
    });
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/Function 'CopyToBlob': output binding '\w+' of type 'blob' is not supported/);
});

test('startHost() as a library: reports url, port and functions, and stop() leaves nothing running', async () => {
    const script = `
        const { startHost } = require(${JSON.stringify(join(repoRoot, 'dist', 'dev', 'host', 'index.js'))});
        (async () => {
            const host = await startHost({ appRoot: ${JSON.stringify(fixtureApp)}, port: 0, log: () => {} });
            const hello = await (await fetch(host.url + '/api/Hello?name=lib')).text();
            console.log(JSON.stringify({ url: host.url, port: host.port, hello, functions: host.functions.slice(0, 2) }));
            await host.stop();
            // No process.exit: the process must end by itself, with no timers, sockets or servers left.
        })();
    `;
    const child = spawn(process.execPath, ['-e', script], {
        cwd: fixtureApp,
        env: { ...process.env, AzureWebJobsStorage: azurite.connectionString },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    clearTimeout(timer);
    expect({ code, signal, output }).toMatchObject({ code: 0, signal: null });
    const report = JSON.parse(/^\{.*\}$/m.exec(output)?.[0] ?? 'null') as {
        url: string;
        port: number;
        hello: string;
        functions: unknown[];
    };
    expect(report.url).toBe(`http://127.0.0.1:${report.port}`);
    expect(report.hello).toBe('Hello, lib!');
    expect(report.functions).toEqual([
        { name: 'BlobRecorder', trigger: 'blobTrigger', path: 'uploads/{name}.json' },
        {
            name: 'Hello',
            trigger: 'httpTrigger',
            url: `${report.url}/api/Hello`,
            methods: ['GET', 'POST'],
            authLevel: 'anonymous',
        },
    ]);
});
