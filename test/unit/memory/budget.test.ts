import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAX_CONNECTIONS_PER_ORIGIN } from '../../../shared/altinn/http';
import { baselineMiB, brokerBufferMiB, elementBufferMiB, memoryBudget } from '../../../shared/memory/budget';
import { checkMemory, queueConcurrencySettings } from '../../../shared/memory/startup';
import { repoRoot } from '../../support/host';

/* The start-up memory check (issue 20 item 8): the arithmetic of docs/deploy.md, and the warning step. */

function capture() {
    const lines: { level: string; line: string }[] = [];
    const at =
        (level: string) =>
        (...args: unknown[]) =>
            lines.push({ level, line: args.map(String).join(' ') });
    return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('the memory budget', () => {
    it('counts element buffers up to the connection pool, Broker buffers per invocation and the baseline', () => {
        expect(elementBufferMiB).toBe(12); // 4 MiB blocks: two in flight, one filling
        expect(brokerBufferMiB).toBe(16); // two 8 MiB blocks
        // The repository's host.json (batchSize 16, newBatchThreshold 4) and DownloadConcurrency 16.
        const budget = memoryBudget({
            batchSize: 16,
            newBatchThreshold: 4,
            downloadConcurrency: 16,
            instanceMemoryMB: 2048,
        });
        expect(budget).toMatchObject({
            queueConcurrency: 20,
            elementsAtOnce: 320,
            streamsAtOnce: 2 * MAX_CONNECTIONS_PER_ORIGIN,
            elementBuffersMiB: 384,
            brokerBuffersMiB: 320,
            worstCaseMiB: baselineMiB + 384 + 320,
            fits: true,
        });
        expect(memoryBudget({ ...budget, instanceMemoryMB: 512 }).fits).toBe(false);
    });

    it('counts every element when there are fewer than the pool holds', () => {
        const budget = memoryBudget({
            batchSize: 1,
            newBatchThreshold: 0,
            downloadConcurrency: 4,
            instanceMemoryMB: 512,
        });
        expect(budget).toMatchObject({ streamsAtOnce: 4, worstCaseMiB: baselineMiB + 4 * 12 + 16, fits: true });
    });
});

describe('the start-up check', () => {
    let dir: string;
    beforeEach(() => {
        dir = mkdtempSync(path.join(tmpdir(), 'aos-memory-'));
        writeFileSync(path.join(dir, 'package.json'), '{}');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("reads host.json's queue settings, and the app settings that override them as the host applies them", () => {
        writeFileSync(
            path.join(dir, 'host.json'),
            JSON.stringify({ extensions: { queues: { batchSize: 8, newBatchThreshold: 2 } } }),
        );
        expect(queueConcurrencySettings(dir, {})).toEqual({ batchSize: 8, newBatchThreshold: 2 });
        expect(queueConcurrencySettings(dir, { AzureFunctionsJobHost__extensions__queues__batchSize: '4' })).toEqual({
            batchSize: 4,
            newBatchThreshold: 2,
        });
        // The host's defaults without host.json: 16, and half of it.
        expect(queueConcurrencySettings(path.join(dir, 'missing'), {})).toEqual({
            batchSize: 16,
            newBatchThreshold: 8,
        });
        expect(queueConcurrencySettings(repoRoot, {})).toEqual({ batchSize: 16, newBatchThreshold: 4 });
    });

    it('warns (step=memory-short) when the instance cannot hold the worst case, naming the figures and what to change', () => {
        const { logger, lines } = capture();
        const budget = checkMemory(logger, repoRoot, { downloadConcurrency: 16, instanceMemoryMB: 512 }, {});
        expect(budget.fits).toBe(false);
        expect(lines).toEqual([
            {
                level: 'warn',
                line: `step=memory-short instanceMemoryMB=512 worstCaseMiB=${budget.worstCaseMiB} batchSize=16 newBatchThreshold=4 downloadConcurrency=16 streamsAtOnce=32 advice="lower host.json batchSize/newBatchThreshold or DownloadConcurrency, or raise instanceMemoryMB (docs/deploy.md, Memory)"`,
            },
        ]);
    });

    it('says it fits (step=memory-fits, at info) when it does', () => {
        const { logger, lines } = capture();
        checkMemory(logger, repoRoot, { downloadConcurrency: 16, instanceMemoryMB: 2048 }, {});
        expect(lines.map((entry) => entry.level)).toEqual(['info']);
        expect(lines[0].line).toMatch(/^step=memory-fits instanceMemoryMB=2048 /);
    });
});
