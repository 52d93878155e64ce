/**
 * The relative links and images of Markdown files, and the anchors their headings make, as GitHub
 * renders them: markdown-it parses the CommonMark (GitHub's flavour is CommonMark plus tables), and
 * github-slugger makes each heading's anchor by GitHub's rules (lower case, punctuation dropped,
 * spaces to hyphens, a repeated heading numbered -1, -2, …).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import type Slugger from 'github-slugger' with { 'resolution-mode': 'import' };
import MarkdownIt from 'markdown-it';

// github-slugger is an ES module only; jest.config.js compiles it to CommonJS for this require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { default: GithubSlugger } = require('github-slugger') as { default: typeof Slugger };

type Token = MarkdownIt.Token;

const markdown = new MarkdownIt({ html: true });

export interface MarkdownLink {
    /** The file the link is in, relative to the repository. */
    file: string;
    /** 1-based line of the link in that file. */
    line: number;
    /** The target as written. */
    href: string;
    kind: 'link' | 'image';
}

/** Links with a scheme (https:, mailto:) or protocol-relative ones leave the repository: not checked here. */
function isExternal(href: string): boolean {
    return /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//');
}

/** The text of an inline token as GitHub puts it in the heading element: text and code, no markup. */
function plainText(children: Token[]): string {
    return children
        .filter((child) => child.type === 'text' || child.type === 'code_inline' || child.type === 'image')
        .map((child) => (child.type === 'image' ? '' : child.content))
        .join('');
}

/** Explicit anchors in raw HTML, `<a name="…">` or `id="…"`, which GitHub keeps (prefixed, and resolved). */
function htmlAnchors(html: string): string[] {
    return [...html.matchAll(/<[a-z][^>]*\s(?:name|id)="([^"]+)"/gi)].map((match) => match[1]);
}

/** Every anchor a file's headings (and explicit HTML anchors) make. */
export function anchorsOf(source: string): Set<string> {
    const tokens = markdown.parse(source, {});
    const slugger = new GithubSlugger();
    const anchors = new Set<string>();
    tokens.forEach((token, index) => {
        if (token.type === 'heading_open') anchors.add(slugger.slug(plainText(tokens[index + 1].children ?? [])));
        if (token.type === 'html_block') htmlAnchors(token.content).forEach((anchor) => anchors.add(anchor));
        for (const child of token.children ?? []) {
            if (child.type === 'html_inline') htmlAnchors(child.content).forEach((anchor) => anchors.add(anchor));
        }
    });
    return anchors;
}

/** Every link and image in a Markdown source, with its line (inline tokens count their line breaks). */
export function linksOf(source: string, file: string): MarkdownLink[] {
    const links: MarkdownLink[] = [];
    // A table cell's inline token has no line of its own: its row's (tr_open) is the last one seen.
    let blockLine = 1;
    for (const token of markdown.parse(source, {})) {
        if (token.map) blockLine = token.map[0] + 1;
        if (token.type !== 'inline') continue;
        let line = blockLine;
        for (const child of token.children ?? []) {
            if (child.type === 'softbreak' || child.type === 'hardbreak') line++;
            if (child.type === 'link_open')
                links.push({ file, line, href: String(child.attrGet('href') ?? ''), kind: 'link' });
            if (child.type === 'image')
                links.push({ file, line, href: String(child.attrGet('src') ?? ''), kind: 'image' });
        }
    }
    return links;
}

/**
 * What is wrong with one relative link: its file or folder does not exist, or its anchor matches no
 * heading of the Markdown file it names. Undefined when it is fine or leaves the repository.
 */
export function brokenLink(
    root: string,
    link: MarkdownLink,
    anchorsIn: (path: string) => Set<string>,
): string | undefined {
    if (isExternal(link.href)) return undefined;
    const hash = link.href.indexOf('#');
    const pathPart = decodeURIComponent(hash < 0 ? link.href : link.href.slice(0, hash)).replace(/\?.*$/, '');
    const anchor = hash < 0 ? undefined : decodeURIComponent(link.href.slice(hash + 1));
    const target = pathPart === '' ? join(root, link.file) : resolve(root, dirname(link.file), pathPart);
    const shown = relative(root, target) || '.';
    if (!target.startsWith(root)) return `${link.href} points outside the repository`;
    if (!existsSync(target)) return `${link.href}: ${shown} does not exist`;
    if (anchor === undefined || anchor === '') return undefined;
    if (statSync(target).isDirectory() || extname(target).toLowerCase() !== '.md') return undefined;
    if (!anchorsIn(target).has(anchor)) return `${link.href}: ${shown} has no heading with the anchor #${anchor}`;
    return undefined;
}

/** Every broken relative link of the given Markdown files, as `file:line: problem`. */
export function brokenLinks(root: string, files: string[]): string[] {
    const anchorCache = new Map<string, Set<string>>();
    const anchorsIn = (path: string): Set<string> => {
        let anchors = anchorCache.get(path);
        if (!anchors) {
            anchors = anchorsOf(readFileSync(path, 'utf8'));
            anchorCache.set(path, anchors);
        }
        return anchors;
    };
    const problems: string[] = [];
    for (const file of files) {
        for (const link of linksOf(readFileSync(join(root, file), 'utf8'), file)) {
            const problem = brokenLink(root, link, anchorsIn);
            if (problem) problems.push(`${link.file}:${link.line}: ${link.kind} ${problem}`);
        }
    }
    return problems;
}
