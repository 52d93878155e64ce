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

describe('files sent through Broker', () => {
    const sent = report({
        sentResources: [
            {
                resourceId: 'ttd-broker',
                uploading: 0,
                processing: 1,
                published: 1,
                confirmed: 3,
                failed: 1,
                expired: 0,
                open: 2,
                oldestOpenHours: 30,
                oldestOpenId: 'aaa',
            },
        ],
        sentFiles: [
            {
                fileTransferId: 'aaa',
                resourceId: 'ttd-broker',
                blob: '<b>vedtak.pdf',
                state: 'published',
                progress: 'published, confirmed 1/2',
                recipients: 2,
                confirmedRecipients: 1,
                final: false,
                sentAt: '2026-11-30T20:00:00Z',
            },
            {
                fileTransferId: 'bbb',
                resourceId: 'ttd-broker',
                blob: 'feil.pdf',
                state: 'failed',
                progress: 'failed: Checksum mismatch',
                recipients: 1,
                confirmedRecipients: 0,
                final: true,
            },
        ],
    });

    it('need attention when one failed or the oldest open one waits over 24 h', () => {
        expect(sent.attention).toEqual([
            'Sent file feil.pdf (ttd-broker, transfer bbb) failed: Checksum mismatch',
            'ttd-broker: 2 sent file(s) not confirmed by every recipient, the oldest (aaa) for 30 h',
        ]);
    });

    it('show per resource and per file, escaped, the failed file marked', () => {
        const html = renderStatusHtml(sent);
        expect(html).toContain('<td>&lt;b&gt;vedtak.pdf</td>');
        expect(html).toContain('<td>published, confirmed 1/2</td>');
        expect(html).toMatch(/<tr class="bad"><td>bbb<\/td>/);
        expect(html).toMatch(/<tr class="bad"><td>ttd-broker<\/td><td class="num">0<\/td><td class="num">1<\/td>/);
        const lines = renderStatusText(sent);
        expect(lines).toContain(
            '  ttd-broker: uploading 0, processing 1, published 1, confirmed 3, failed 1, expired 0; oldest not confirmed 30 h (aaa)',
        );
        expect(lines).toContain('  bbb feil.pdf (ttd-broker): failed: Checksum mismatch');
    });
});
