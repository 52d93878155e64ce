import { join, resolve } from 'node:path';
import { expandBraces, findEntryPoints } from '../../../dev/host/discovery';

const fixtureApp = resolve(__dirname, '..', '..', 'fixtures', 'hostapp');

test('brace alternatives expand in order, nested too', () => {
    expect(expandBraces('dist/{index.js,functions/*.js}')).toEqual(['dist/index.js', 'dist/functions/*.js']);
    expect(expandBraces('a/{b,{c,d}/e}')).toEqual(['a/b', 'a/c/e', 'a/d/e']);
    expect(expandBraces('dist/index.js')).toEqual(['dist/index.js']);
});

test("finds main's files, in the order of its alternatives, and nothing else", () => {
    expect(findEntryPoints(fixtureApp).files).toEqual([
        'index.js',
        'functions/blob.js',
        'functions/http.js',
        'functions/queue.js',
        'functions/timer.js',
    ]);
});

test('a main that matches nothing, or no package.json, is an error that says what to do', () => {
    expect(() => findEntryPoints(join(fixtureApp, 'no-main-match'))).toThrow(
        /package\.json "main" \("dist\/\{index\.js,functions\/\*\.js\}"\) matches no files in .*npm run build/,
    );
    expect(() => findEntryPoints(join(fixtureApp, 'functions'))).toThrow(/No package\.json/);
});
