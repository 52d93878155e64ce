import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { globSync } from 'tinyglobby';
import { anchorsOf, brokenLinks, linksOf } from '../../support/markdownLinks';

/*
 * Every relative link and image in the documentation points at a file that exists, and every
 * #anchor at a heading of the file it names, by GitHub's rules: README.md and the root's other
 * Markdown files, docs/ and the READMEs under dev/.
 */
const root = join(__dirname, '..', '..', '..');
const documentation = globSync(['*.md', 'docs/**/*.md', 'dev/**/README.md'], {
    cwd: root,
    ignore: ['**/node_modules/**'],
}).sort();

test('the documentation is found', () => {
    expect(documentation).toEqual(expect.arrayContaining(['README.md', 'docs/deploy.md', 'dev/host/README.md']));
});

test('every relative link and image in the documentation resolves, anchors included', () => {
    expect(brokenLinks(root, documentation)).toEqual([]);
});

describe('the link check itself', () => {
    const page = [
        '# Deploy to Azure',
        '',
        '## 1. The Altinn side',
        '',
        '## `GET /api/check` and `aos check`',
        '',
        '## Retry',
        '',
        '## Retry',
        '',
        'See [the side](#1-the-altinn-side), [check](#get-apicheck-and-aos-check),',
        'and [the second](#retry-1), ![a picture](missing.png) and [gone](#nowhere).',
        '',
        '| a | b |',
        '| - | - |',
        '| [table](../README.md#no-such-heading) | `[not a link](nowhere.md)` |',
        '',
        '```md',
        '[in code](nowhere.md)',
        '```',
        '',
        '[external](https://example.com/missing) [ref][r]',
        '',
        '[r]: docs/nowhere.md',
    ].join('\n');

    it('makes the anchors GitHub makes, numbering repeated headings', () => {
        expect([...anchorsOf(page)]).toEqual([
            'deploy-to-azure',
            '1-the-altinn-side',
            'get-apicheck-and-aos-check',
            'retry',
            'retry-1',
        ]);
    });

    it('finds links and images with their lines, not those in code', () => {
        expect(linksOf(page, 'docs/page.md').map(({ line, href, kind }) => `${line} ${kind} ${href}`)).toEqual([
            '11 link #1-the-altinn-side',
            '11 link #get-apicheck-and-aos-check',
            '12 link #retry-1',
            '12 image missing.png',
            '12 link #nowhere',
            '16 link ../README.md#no-such-heading',
            '22 link https://example.com/missing',
            '22 link docs/nowhere.md',
        ]);
    });

    it('names the file, the line and the link of each broken one', () => {
        const dir = mkdtempSync(join(tmpdir(), 'aos-links-'));
        try {
            mkdirSync(join(dir, 'docs'));
            writeFileSync(join(dir, 'README.md'), '# Title\n\nSee [the page](docs/page.md#retry).\n');
            writeFileSync(join(dir, 'docs', 'page.md'), page);
            expect(brokenLinks(dir, ['README.md', 'docs/page.md'])).toEqual([
                'docs/page.md:12: image missing.png: docs/missing.png does not exist',
                'docs/page.md:12: link #nowhere: docs/page.md has no heading with the anchor #nowhere',
                'docs/page.md:16: link ../README.md#no-such-heading: README.md has no heading with the anchor #no-such-heading',
                'docs/page.md:22: link docs/nowhere.md: docs/docs/nowhere.md does not exist',
            ]);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
