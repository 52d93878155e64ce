import { renderCheckHtml, renderCheckTable, type CheckReport } from '../../../shared/check';

const report: CheckReport = {
    generatedAt: '2026-06-01T10:00:00.000Z',
    durationMs: 1234,
    receiverUrls: ['https://func-aos.azurewebsites.net/api/eventsreceiver'],
    summary: { ok: 1, warning: 0, failed: 1 },
    checks: [
        { group: 'settings', name: 'Settings', status: 'ok', detail: 'every setting parsed', durationMs: 2 },
        {
            group: 'broker',
            name: 'Broker resource <x>',
            status: 'failed',
            detail: 'Broker refused resource <x> with NoAccessToResource',
            action: 'ask the "owner"',
            durationMs: 1500,
        },
    ],
};

test('the table: one line per check in aligned columns, what to do under a failed one, the totals last', () => {
    expect(renderCheckTable(report)).toEqual([
        'status   check                 took  result',
        'ok       Settings              2 ms  every setting parsed',
        'failed   Broker resource <x>  1.5 s  Broker refused resource <x> with NoAccessToResource',
        '                                     what to do: ask the "owner"',
        '',
        '1 ok, 0 warning(s), 1 failed, in 1.2 s',
    ]);
});

test('the page escapes every value and marks the failed row', () => {
    const page = renderCheckHtml(report);
    expect(page).not.toContain('<x>');
    expect(page).toContain('<tr class="failed"><td>failed</td><td>Broker resource &lt;x&gt;</td>');
    expect(page).toContain('What to do: ask the &quot;owner&quot;');
    expect(page).toContain('<p id="verdict">2026-06-01T10:00:00.000Z: 1 ok, 0 warning(s), 1 failed, in 1.2 s</p>');
    expect(page).not.toMatch(/<script|<link|src=/i);
});
