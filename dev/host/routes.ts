/**
 * HTTP route templates as the Functions host (ASP.NET routing) understands them: literal
 * segments, `{id}`, optional `{id?}`, defaults `{id=1}`, catch-all `{*rest}`, common
 * constraints (`{id:int}`, `{id:guid}`, `{id:alpha}`, `{id:regex(...)}` without braces in the
 * regex, ...), and segments mixing text and parameters (`{name}.{ext}`). Matching is
 * case-insensitive; more specific templates win.
 */

interface LiteralPart {
    readonly kind: 'literal';
    readonly text: string;
}

interface ParamPart {
    readonly kind: 'param';
    readonly name: string;
    readonly optional: boolean;
    readonly catchAll: boolean;
    readonly constraints: readonly string[];
    readonly defaultValue: string | undefined;
}

type Part = LiteralPart | ParamPart;

interface Segment {
    readonly parts: readonly Part[];
    /** For segments that are not a single literal or parameter. */
    readonly regex: RegExp | undefined;
}

export interface CompiledRoute {
    readonly template: string;
    readonly segments: readonly Segment[];
    /** Sort key: lower is more specific (literal < complex < constrained < plain < optional < catch-all). */
    readonly precedence: readonly number[];
}

export function compileRoute(template: string): CompiledRoute {
    const cleaned = template.replace(/^~?\/+/, '').replace(/\/+$/, '');
    const segments = cleaned === '' ? [] : cleaned.split('/').map((text) => compileSegment(text, template));
    segments.forEach((segment, index) => {
        const param = singleParam(segment);
        if (param?.catchAll && index !== segments.length - 1) {
            throw new Error(`Route '${template}': a catch-all parameter must be the last segment.`);
        }
    });
    return { template, segments, precedence: segments.map(segmentPrecedence) };
}

/** Route values for a request path (without the route prefix), or undefined when it does not match. */
export function matchRoute(route: CompiledRoute, path: string): Record<string, string> | undefined {
    const pieces = path
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .filter((piece, _index, all) => !(piece === '' && all.length === 1));
    const values: Record<string, string> = {};
    for (let index = 0; index < route.segments.length; index++) {
        const segment = route.segments[index];
        const param = singleParam(segment);
        const piece = pieces[index];
        if (param?.catchAll) {
            const rest = pieces.slice(index).map(safeDecode).join('/');
            if (rest !== '') values[param.name] = rest;
            else if (param.defaultValue !== undefined) values[param.name] = param.defaultValue;
            return satisfiesAll(param, values[param.name]) ? values : undefined;
        }
        if (piece === undefined) {
            // Only trailing optional (or defaulted) parameters may be missing.
            if (param && (param.optional || param.defaultValue !== undefined)) {
                if (param.defaultValue !== undefined) values[param.name] = param.defaultValue;
                continue;
            }
            return undefined;
        }
        const decoded = safeDecode(piece);
        if (!matchSegment(segment, decoded, values)) return undefined;
    }
    return pieces.length <= route.segments.length ? values : undefined;
}

/** Sorts routes so that the most specific template is tried first. */
export function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
    const length = Math.max(a.precedence.length, b.precedence.length);
    for (let index = 0; index < length; index++) {
        const left = a.precedence[index] ?? 0;
        const right = b.precedence[index] ?? 0;
        if (left !== right) return left - right;
    }
    return b.segments.length - a.segments.length;
}

function compileSegment(text: string, template: string): Segment {
    const parts: Part[] = [];
    const pattern = /\{([^{}]+)\}/g;
    let last = 0;
    for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
        if (match.index > last) parts.push({ kind: 'literal', text: text.slice(last, match.index) });
        parts.push(parseParam(match[1], template));
        last = match.index + match[0].length;
    }
    if (last < text.length) parts.push({ kind: 'literal', text: text.slice(last) });
    const simple = parts.length === 1;
    if (!simple && parts.some((part) => part.kind === 'param' && (part.catchAll || part.optional))) {
        throw new Error(`Route '${template}': optional and catch-all parameters must fill a whole segment.`);
    }
    const regex = simple
        ? undefined
        : new RegExp(
              `^${parts.map((part) => (part.kind === 'literal' ? escapeRegex(part.text) : '(.+?)')).join('')}$`,
              'i',
          );
    return { parts, regex };
}

function parseParam(body: string, template: string): ParamPart {
    let text = body.trim();
    const catchAll = text.startsWith('*');
    text = text.replace(/^\*+/, '');
    let defaultValue: string | undefined;
    const equals = text.indexOf('=');
    if (equals >= 0) {
        defaultValue = text.slice(equals + 1);
        text = text.slice(0, equals);
    }
    const optional = text.endsWith('?');
    text = text.replace(/\?$/, '');
    const [name, ...constraints] = splitConstraints(text);
    if (!name) throw new Error(`Route '${template}': a parameter has no name.`);
    return { kind: 'param', name, optional, catchAll, constraints, defaultValue };
}

/** Splits `id:int:min(1)` at colons outside parentheses (regex constraints may contain colons). */
function splitConstraints(text: string): string[] {
    const result: string[] = [];
    let depth = 0;
    let current = '';
    for (const char of text) {
        if (char === '(') depth++;
        if (char === ')') depth--;
        if (char === ':' && depth === 0) {
            result.push(current);
            current = '';
        } else {
            current += char;
        }
    }
    result.push(current);
    return result;
}

function singleParam(segment: Segment): ParamPart | undefined {
    const [only] = segment.parts;
    return segment.parts.length === 1 && only.kind === 'param' ? only : undefined;
}

function matchSegment(segment: Segment, piece: string, values: Record<string, string>): boolean {
    if (!segment.regex) {
        const [only] = segment.parts;
        if (only.kind === 'literal') return only.text.toLowerCase() === piece.toLowerCase();
        if (!satisfiesAll(only, piece)) return false;
        values[only.name] = piece;
        return true;
    }
    const match = segment.regex.exec(piece);
    if (!match) return false;
    const params = segment.parts.filter((part): part is ParamPart => part.kind === 'param');
    for (const [index, param] of params.entries()) {
        const value = match[index + 1];
        if (!satisfiesAll(param, value)) return false;
        values[param.name] = value;
    }
    return true;
}

function satisfiesAll(param: ParamPart, value: string | undefined): boolean {
    if (value === undefined) return param.optional || param.catchAll;
    return param.constraints.every((constraint) => satisfies(constraint, value));
}

/** The common ASP.NET route constraints; unknown ones are accepted rather than guessed. */
function satisfies(constraint: string, value: string): boolean {
    const match = /^(\w+)(?:\((.*)\))?$/s.exec(constraint.trim());
    if (!match) return true;
    const [, name, argument = ''] = match;
    const args = argument.split(',').map((arg) => Number(arg.trim()));
    switch (name.toLowerCase()) {
        case 'int':
        case 'long':
            return /^-?\d+$/.test(value);
        case 'decimal':
        case 'double':
        case 'float':
            return value.trim() !== '' && !Number.isNaN(Number(value));
        case 'bool':
            return /^(true|false)$/i.test(value);
        case 'guid':
            return /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[)}]?$/i.test(value);
        case 'alpha':
            return /^[a-z]+$/i.test(value);
        case 'minlength':
            return value.length >= args[0];
        case 'maxlength':
            return value.length <= args[0];
        case 'length':
            return args.length === 1 ? value.length === args[0] : value.length >= args[0] && value.length <= args[1];
        case 'min':
            return Number(value) >= args[0];
        case 'max':
            return Number(value) <= args[0];
        case 'range':
            return Number(value) >= args[0] && Number(value) <= args[1];
        case 'regex':
            return new RegExp(argument, 'i').test(value);
        default:
            return true;
    }
}

function segmentPrecedence(segment: Segment): number {
    const param = singleParam(segment);
    if (!param) return segment.regex ? 2 : 1;
    if (param.catchAll) return 6;
    if (param.optional || param.defaultValue !== undefined) return 5;
    return param.constraints.length > 0 ? 3 : 4;
}

function safeDecode(piece: string): string {
    try {
        return decodeURIComponent(piece);
    } catch {
        return piece;
    }
}

function escapeRegex(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
