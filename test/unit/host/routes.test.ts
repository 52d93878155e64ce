import { compareRoutes, compileRoute, matchRoute } from '../../../dev/host/routes';

test('matches literal segments case-insensitively and extracts parameters', () => {
    const route = compileRoute('items/{id}');
    expect(matchRoute(route, 'items/42')).toEqual({ id: '42' });
    expect(matchRoute(route, 'ITEMS/abc%20def')).toEqual({ id: 'abc def' });
    expect(matchRoute(route, 'items')).toBeUndefined();
    expect(matchRoute(route, 'items/1/2')).toBeUndefined();
    expect(matchRoute(compileRoute('EventsReceiver'), 'eventsreceiver')).toEqual({});
});

test('optional parameters, defaults and catch-all', () => {
    const optional = compileRoute('orders/{id?}');
    expect(matchRoute(optional, 'orders')).toEqual({});
    expect(matchRoute(optional, 'orders/7')).toEqual({ id: '7' });
    expect(matchRoute(compileRoute('page/{n=1}'), 'page')).toEqual({ n: '1' });
    const catchAll = compileRoute('files/{*path}');
    expect(matchRoute(catchAll, 'files/a/b/c.txt')).toEqual({ path: 'a/b/c.txt' });
    expect(matchRoute(catchAll, 'files')).toEqual({});
    expect(() => compileRoute('{*rest}/x')).toThrow(/catch-all/);
});

test('constraints decide whether a route matches', () => {
    const route = compileRoute('items/{id:int}');
    expect(matchRoute(route, 'items/12')).toEqual({ id: '12' });
    expect(matchRoute(route, 'items/abc')).toBeUndefined();
    const guid = compileRoute('i/{id:guid}');
    expect(matchRoute(guid, 'i/0b5e2b4e-86d3-4d5a-9c4f-2d1e0c7a9b11')).toBeDefined();
    expect(matchRoute(guid, 'i/nope')).toBeUndefined();
    expect(matchRoute(compileRoute('a/{x:alpha:maxlength(3)}'), 'a/abcd')).toBeUndefined();
    expect(matchRoute(compileRoute('r/{x:regex(^\\d+$)}'), 'r/12')).toBeDefined();
    expect(matchRoute(compileRoute('r/{x:regex(^\\d+$)}'), 'r/1a')).toBeUndefined();
});

test('segments mixing text and parameters', () => {
    const route = compileRoute('docs/{name}.{ext}');
    expect(matchRoute(route, 'docs/report.pdf')).toEqual({ name: 'report', ext: 'pdf' });
    expect(matchRoute(route, 'docs/report')).toBeUndefined();
});

test('more specific templates sort first', () => {
    const templates = ['items/{*rest}', 'items/{id}', 'items/{id:int}', 'items/special', 'items/{id?}'];
    const sorted = templates.map(compileRoute).sort(compareRoutes);
    expect(sorted.map((route) => route.template)).toEqual([
        'items/special',
        'items/{id:int}',
        'items/{id}',
        'items/{id?}',
        'items/{*rest}',
    ]);
});
