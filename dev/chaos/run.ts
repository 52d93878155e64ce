/**
 * npm run chaos [-- --instances 200 --outage-seconds 30 --scenario <name> ... --fault-rate 0.2
 *                   --settle-seconds <n> --real-hold --keep]
 *
 * Runs the real functions in the local host (a child process) against Azurite (a child process,
 * persisted to a temporary folder so that it can be stopped and started again) and the Altinn
 * simulator (in this process), through each failure scenario in scenarios.ts, and prints one row
 * per scenario: events sent, instances stored, confirmed, in poison, lost (must be 0), duplicated
 * downloads, and confirmations without the data stored. Exits non-zero when any scenario lost an
 * instance or confirmed one whose blobs are not all there with the right size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDevClient } from '../devClient';
import { runScenario, defaultSettleSeconds, type ScenarioResult } from './runner';
import { scenarioNamed, scenarios, windowSeconds, type ChaosOptions } from './scenarios';
import type { ChaosStack } from './stack';

const usage = `Usage: npm run chaos -- [--instances <n>] [--outage-seconds <s>] [--scenario <name>]... [--fault-rate <0..1>]
                        [--settle-seconds <s>] [--real-hold] [--keep] [--work-dir <folder>]
Scenarios: ${scenarios.map((s) => s.name).join(', ')}`;

function positiveNumber(name: string, text: string, integer: boolean): number {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
        throw new UsageError(`--${name} must be a positive ${integer ? 'whole ' : ''}number, not "${text}"`);
    }
    return value;
}

class UsageError extends Error {}

export function formatTable(results: ScenarioResult[]): string {
    const header = [
        'scenario',
        'events sent',
        'instances stored',
        'confirmed',
        'in poison (expected)',
        'lost',
        'duplicated downloads',
        'confirmed without data',
        'seconds',
        'result',
    ];
    const rows = results.map((r) => [
        r.scenario,
        String(r.sent),
        String(r.stored),
        String(r.confirmed),
        `${r.poison} (${r.expectedPoison})`,
        String(r.lost.length),
        String(r.duplicateDownloads),
        String(r.confirmedWithoutData.length),
        r.seconds.toFixed(0),
        !r.ok ? 'FAIL' : r.poison !== r.expectedPoison ? 'ok, unexpected poison' : 'ok',
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) =>
        `| ${cells.map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
    return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

async function main(argv: string[]): Promise<number> {
    const { values } = parseArgs({
        args: argv,
        options: {
            instances: { type: 'string', default: '200' },
            'outage-seconds': { type: 'string', default: '30' },
            scenario: { type: 'string', multiple: true },
            'fault-rate': { type: 'string', default: '0.2' },
            'settle-seconds': { type: 'string' },
            'real-hold': { type: 'boolean', default: false },
            keep: { type: 'boolean', default: false },
            'work-dir': { type: 'string' },
            help: { type: 'boolean', default: false },
        },
    });
    if (values.help) {
        console.log(usage);
        return 0;
    }
    const faultRate = Number(values['fault-rate']);
    if (!(faultRate >= 0 && faultRate <= 1)) throw new UsageError('--fault-rate must be between 0 and 1');
    const options: ChaosOptions = {
        instances: positiveNumber('instances', values.instances, true),
        outageSeconds: positiveNumber('outage-seconds', values['outage-seconds'], false),
        faultRate,
        realHold: values['real-hold'],
        settleSeconds: values['settle-seconds']
            ? positiveNumber('settle-seconds', values['settle-seconds'], false)
            : undefined,
    };
    const chosen = (values.scenario ?? scenarios.map((s) => s.name)).map(scenarioNamed);

    const workDir = values['work-dir'] ?? mkdtempSync(join(tmpdir(), 'aos-chaos-'));
    let current: ChaosStack | undefined;
    const interrupt = () => {
        console.log('\nchaos: interrupted; stopping what this started');
        void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
    };
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);

    console.log(
        `chaos: ${options.instances} instances per scenario over ${windowSeconds(options)} s, outage ${options.outageSeconds} s, ` +
            `settle wait up to ${options.settleSeconds ?? defaultSettleSeconds(options)} s; ${cpus().length} CPUs, Node ${process.version}; work folder ${workDir}`,
    );
    const client = ensureDevClient(workDir);
    const results: ScenarioResult[] = [];
    for (const scenario of chosen) {
        console.log(`\n== ${scenario.name}: ${scenario.title}`);
        results.push(
            await runScenario(scenario, options, {
                workDir,
                client,
                keep: values.keep,
                say: (line) => console.log(line),
                onStack: (stack) => (current = stack),
            }),
        );
    }

    console.log(`\n${formatTable(results)}\n`);
    for (const result of results) {
        console.log(`${result.scenario}:`);
        for (const note of result.notes) console.log(`  - ${note}`);
        if (result.keptIn) console.log(`  - host log and Azurite data: ${result.keptIn}`);
    }
    const failed = results.filter((r) => !r.ok);
    if (!values.keep && !values['work-dir'] && failed.length === 0) rmSync(workDir, { recursive: true, force: true });
    if (failed.length > 0) {
        console.log(
            `\nchaos: FAILED: ${failed.map((r) => r.scenario).join(', ')} (an instance lost, confirmed without its data, or stored otherwise than Altinn has it)`,
        );
        return 1;
    }
    console.log('\nchaos: no instance lost, none confirmed without its data');
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error: unknown) => {
            if (
                error instanceof UsageError ||
                String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')
            ) {
                console.error(`${(error as Error).message}\n${usage}`);
                process.exit(2);
            }
            console.error(error);
            process.exit(1);
        },
    );
}
