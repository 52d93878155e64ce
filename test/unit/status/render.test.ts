import { renderStatusHtml, renderStatusText } from '../../../shared/status';
import { statusReport } from '../../support/statusReport';

const report = statusReport;

describe('the status page', () => {
    it('escapes every value, so that text from files, Altinn or errors cannot become markup', () => {
        const hostile = '<script>alert(1)</script>"\'&';
        const html = renderStatusHtml(
            report({
                subscriptions: {
                    active: [{ name: hostile, filter: hostile }],
                    failed: [{ name: 'x', reason: hostile }],
                    pending: [{ name: hostile, operation: 'add' }],
                    unknownToFiles: [],
                },
                runs: [{ kind: 'reconciliation', subject: hostile, at: hostile, queued: 0, error: hostile }],
            }),
        );
        expect(html).not.toContain('<script>');
        expect(html).not.toContain(hostile);
        expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
        // Self-contained: no script, no link, no external source.
        expect(html).not.toMatch(/<script|<link|src=|url\(/i);
    });

    it('says all is well when nothing needs attention, and what does when something does', () => {
        expect(renderStatusHtml(report())).toContain('<h2>All well</h2>');
        const stuck = report({
            poisonQueues: [{ queue: 'events-inbound', poisonQueue: 'events-inbound-poison', messages: 2 }],
            apps: [
                {
                    kind: 'instance',
                    scope: 'ttd/apps-test',
                    received: 3,
                    stored: 2,
                    confirmed: 1,
                    unconfirmed: 2,
                    oldestUnconfirmedHours: 26.5,
                    oldestUnconfirmedId: '51001/abc',
                    poisoned: 1,
                },
            ],
            unavailable: [{ part: 'the ledger (runs)', error: 'table gone' }],
        });
        expect(stuck.attention).toEqual([
            '2 message(s) in events-inbound-poison: see npm run aos -- poison list',
            'ttd/apps-test: 1 in a poison queue, not confirmed',
            'ttd/apps-test: 2 not confirmed, the oldest (51001/abc) for 26.5 h',
            'Could not read the ledger (runs): table gone',
        ]);
        const html = renderStatusHtml(stuck);
        expect(html).toContain('<h2>Needs attention</h2>');
        expect(html).toMatch(/<tr class="bad"><td>ttd\/apps-test<\/td>/);
        expect(html).toContain('<td>26.5 h</td>');
    });
});

describe('the status as text', () => {
    it('lists the same sections, and what needs attention first', () => {
        const lines = renderStatusText(
            report({
                poisonQueues: [{ queue: 'events-inbound', poisonQueue: 'events-inbound-poison', messages: 1 }],
                subscriptions: {
                    active: [
                        { name: 'ttd-apps-test', id: 7, inAltinn: false, problem: 'Altinn has no subscription 7' },
                    ],
                    failed: [],
                    pending: [{ name: 'next', operation: 'add' }],
                    unknownToFiles: [],
                },
            }),
        );
        expect(lines.slice(0, 5)).toEqual([
            'Status at 2026-12-01 02:43 UTC (counts over the last 24 h)',
            '',
            'Needs attention:',
            '  - 1 message(s) in events-inbound-poison: see npm run aos -- poison list',
            '  - Subscription ttd-apps-test: Altinn has no subscription 7',
        ]);
        expect(lines).toContain('  events-inbound-poison: 1');
        expect(lines).toContain('  active ttd-apps-test (id 7): NOT IN ALTINN: Altinn has no subscription 7');
        expect(lines).toContain('  waiting add next');
    });
});
