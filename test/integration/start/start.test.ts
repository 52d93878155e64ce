import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../dev/ports';
import { repoRoot } from '../../support/host';

/*
 * `npm start` as a newcomer runs it (the compiled dev/start.js, which `npm start` builds first):
 * the whole stack comes up, the demo's submissions are stored and confirmed, and stopping it
 * leaves no process behind. Ports and the data folder are private to the test.
 */

jest.setTimeout(180_000);

interface Run {
    output: string;
    code: number | null;
    pids: number[];
}

async function startArgs(dataDir: string): Promise<string[]> {
    const flags = [
        'host-port',
        'blob-port',
        'queue-port',
        'table-port',
        'platform-port',
        'apps-port',
        'maskinporten-port',
    ];
    const args: string[] = [join(repoRoot, 'dist', 'dev', 'start.js'), '--data-dir', dataDir];
    for (const flag of flags) args.push(`--${flag}`, String(await freePort()));
    return args;
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

function run(args: string[], stopWhen?: RegExp): Promise<Run> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        let interrupted = false;
        const collect = (chunk: Buffer) => {
            output += chunk.toString();
            if (!interrupted && stopWhen?.test(output)) {
                interrupted = true;
                child.kill('SIGINT');
            }
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        child.on('exit', (code) => {
            const pids = [...output.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
            resolve({ output, code, pids });
        });
    });
}

let dataDir: string;
beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'aos-start-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

test('the demo runs end to end: subscriptions validated, instances and a Broker file stored and confirmed, a file sent and confirmed, a purged Broker file reported', async () => {
    const result = await run([...(await startArgs(dataDir)), '--exit-after-demo']);
    expect(result.output).toContain('demo: subscriptions registered in Altinn and validated');
    expect(result.output).toMatch(/demo: done/);
    // Three instances: two data elements and instance.json each, plus the Broker file and its overview.
    expect(result.output.match(/ {2}inbound\/ttd\/demo-app\/[0-9a-f-]{36}\/instance\.json/g)).toHaveLength(3);
    expect(result.output.match(/ {2}inbound\/ttd\/demo-app\/[0-9a-f-]{36}\/data\/[0-9a-f-]{36}/g)).toHaveLength(6);
    expect(result.output).toMatch(/ {2}broker\/ttd-demo-broker\/[0-9a-f-]{36}\/årsrapport-2026\.csv/);
    expect(result.output).toMatch(/ {2}broker\/ttd-demo-broker\/[0-9a-f-]{36}\/filetransfer\.json/);
    expect(result.output).toContain('step=confirmed');
    // A file sent to two organisations, followed from its transfer to both confirmations and back to the case systems.
    const sent = [...result.output.matchAll(/demo: sent file [0-9a-f-]{36}: (.+)/g)].map((m) => m[1]);
    expect(sent[0]).toMatch(/^(initialized|uploading|processing|published, confirmed 0\/2)$/);
    expect(sent.slice(-3)).toEqual(['published, confirmed 0/2', 'published, confirmed 1/2', 'confirmed 2/2']);
    expect(result.output).toMatch(/demo: broker-sent tells the case systems: [0-9a-f-]{36} confirmed/);
    expect(result.output).toMatch(/ {2}broker-outbound\/demo\/\d{4}-\d\d-\d\dT[\d-]+Z\/vedtak-2026-17\.pdf/);
    // The Broker subscription has no typeFilter, so Broker's never-confirmed event for the purged file arrives.
    const purged = /demo: Broker purged file transfer ([0-9a-f-]{36}) at its expiry/.exec(result.output)?.[1];
    expect(purged).toBeDefined();
    expect(result.output).toMatch(new RegExp(`step=broker-never-confirmed fileTransferId=${purged}`));
    expect(result.output).toContain(
        `demo: no.altinn.broker.fileneverconfirmeddownloaded for ${purged} reached the webhook`,
    );
    expect(result.code).toBe(0);
    expect(result.pids.length).toBeGreaterThanOrEqual(2);
    expect(result.pids.filter(alive)).toEqual([]);
});

test('Ctrl-C stops Azurite and the host it started, and exits 0', async () => {
    const result = await run([...(await startArgs(dataDir)), '--no-demo'], /running; Ctrl-C stops everything/);
    expect(result.output).toContain('[start] stopped');
    expect(result.code).toBe(0);
    expect(result.pids.length).toBe(2);
    expect(result.pids.filter(alive)).toEqual([]);
});
