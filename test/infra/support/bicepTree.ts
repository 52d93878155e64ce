/**
 * Reads Bicep with the tree-sitter Bicep grammar (tree-sitter-bicep, run by web-tree-sitter), so
 * that tests can check the templates offline: no Bicep compiler is needed. The grammar knows
 * syntax only; these helpers answer structural questions (params, variables, resources, role
 * assignments, outputs) on the syntax tree.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Language, Parser, type Node } from 'web-tree-sitter';

export const repoRoot = path.resolve(__dirname, '../../..');
export const infraDir = path.join(repoRoot, 'infra');

let parserReady: Promise<Parser> | undefined;

function bicepParser(): Promise<Parser> {
    parserReady ??= (async () => {
        await Parser.init();
        // Bytes rather than a path: Language.load(path) uses a dynamic import() that Jest's CommonJS
        // runtime refuses without --experimental-vm-modules.
        const wasm = readFileSync(path.join(repoRoot, 'node_modules/tree-sitter-bicep/tree-sitter-bicep.wasm'));
        const language = await Language.load(new Uint8Array(wasm));
        const parser = new Parser();
        parser.setLanguage(language);
        return parser;
    })();
    return parserReady;
}

export interface SyntaxProblem {
    line: number;
    column: number;
    kind: 'error' | 'missing';
    text: string;
}

export interface Param {
    name: string;
    type: string;
    /** The default value expression, if the parameter has one. */
    defaultValue?: Node;
    decorators: string[];
}

export interface Resource {
    symbol: string;
    /** e.g. Microsoft.Storage/storageAccounts@2023-05-01 (nested resources: the relative type). */
    type: string;
    existing: boolean;
    /** The condition of `= if (...)`, as source text. */
    condition?: string;
    /** The loop source of `= [for x in ...: ...]`, as source text. */
    loopOver?: string;
    body: Node;
    node: Node;
}

export interface Output {
    name: string;
    type: string;
    value: Node;
    decorators: string[];
}

export interface ModuleRef {
    symbol: string;
    path: string;
    body: Node;
}

export class BicepFile {
    constructor(
        /** Path relative to the repository root, with forward slashes. */
        readonly file: string,
        readonly source: string,
        readonly root: Node,
    ) {}

    /** Every ERROR and MISSING node: the grammar's syntax errors. */
    syntaxProblems(): SyntaxProblem[] {
        const problems: SyntaxProblem[] = [];
        const walk = (node: Node): void => {
            if (node.isError || node.isMissing) {
                problems.push({
                    line: node.startPosition.row + 1,
                    column: node.startPosition.column + 1,
                    kind: node.isMissing ? 'missing' : 'error',
                    text: node.text.slice(0, 80),
                });
            }
            for (const child of present(node.children)) walk(child);
        };
        walk(this.root);
        return problems;
    }

    targetScope(): string | undefined {
        const node = this.topLevel('target_scope_assignment')[0];
        return node ? stringLiteral(childOfType(node, 'string')) : undefined;
    }

    params(): Map<string, Param> {
        const result = new Map<string, Param>();
        for (const node of this.topLevel('parameter_declaration')) {
            const named = present(node.namedChildren);
            const name = named[0].text;
            const type = named[1].text;
            const defaultValue = named.length > 2 ? named[2] : undefined;
            result.set(name, { name, type, defaultValue, decorators: decoratorsOf(node) });
        }
        return result;
    }

    variable(name: string): Node | undefined {
        const node = this.topLevel('variable_declaration').find((decl) => firstIdentifier(decl) === name);
        return node ? present(node.namedChildren)[1] : undefined;
    }

    /** Top-level resources and nested ones (declared inside another resource's body). */
    resources(): Resource[] {
        return this.root.descendantsOfType('resource_declaration').flatMap((node) => (node ? [resourceOf(node)] : []));
    }

    resource(symbol: string): Resource | undefined {
        return this.resources().find((resource) => resource.symbol === symbol);
    }

    outputs(): Map<string, Output> {
        const result = new Map<string, Output>();
        for (const node of this.topLevel('output_declaration')) {
            const named = present(node.namedChildren);
            result.set(named[0].text, {
                name: named[0].text,
                type: named[1].text,
                value: named[2],
                decorators: decoratorsOf(node),
            });
        }
        return result;
    }

    modules(): ModuleRef[] {
        return this.topLevel('module_declaration').map((node) => {
            const named = present(node.namedChildren);
            return {
                symbol: named[0].text,
                path: stringLiteral(named[1]) ?? named[1].text,
                body: bodyOf(named[2]).body,
            };
        });
    }

    /** Every string in the file, with interpolations kept as ${...}. */
    strings(): string[] {
        return present(this.root.descendantsOfType('string')).map(stringTemplate);
    }

    private topLevel(type: string): Node[] {
        return present(this.root.children).filter((node) => node.type === type);
    }
}

export async function parseBicep(source: string, file = '<inline>.bicep'): Promise<BicepFile> {
    const parser = await bicepParser();
    const tree = parser.parse(source);
    if (!tree) throw new Error(`tree-sitter returned no tree for ${file}`);
    return new BicepFile(file, source, tree.rootNode);
}

/** Reads and parses a file given relative to the repository root, e.g. infra/main.bicep. */
export async function loadBicep(file: string): Promise<BicepFile> {
    return parseBicep(readFileSync(path.join(repoRoot, file), 'utf8'), file);
}

/** Every .bicep file under infra/, relative to the repository root. */
export function bicepFiles(dir = infraDir): string[] {
    return readdirSync(dir, { withFileTypes: true, recursive: true })
        .filter((entry) => entry.isFile() && entry.name.endsWith('.bicep'))
        .map((entry) => path.relative(repoRoot, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
        .sort();
}

// ---------------------------------------------------------------------------------------------
// Node helpers
// ---------------------------------------------------------------------------------------------

export function present(nodes: (Node | null)[]): Node[] {
    return nodes.filter((node): node is Node => node !== null);
}

function childOfType(node: Node, type: string): Node | undefined {
    return present(node.namedChildren).find((child) => child.type === type);
}

function firstIdentifier(node: Node): string | undefined {
    return childOfType(node, 'identifier')?.text;
}

/** Names of the decorators (e.g. secure, description) written directly above a declaration. */
function decoratorsOf(node: Node): string[] {
    let sibling = node.previousNamedSibling;
    while (sibling?.type === 'comment') sibling = sibling.previousNamedSibling;
    if (sibling?.type !== 'decorators') return [];
    return present(sibling.namedChildren).map((decorator) => {
        const call = childOfType(decorator, 'call_expression');
        return call?.childForFieldName('function')?.text ?? decorator.text;
    });
}

function bodyOf(node: Node): { body: Node; condition?: string; loopOver?: string } {
    if (node.type === 'object') return { body: node };
    if (node.type === 'if_statement') {
        const named = present(node.namedChildren);
        return { body: named[named.length - 1], condition: named[0].text.replace(/^\(|\)$/g, '') };
    }
    if (node.type === 'for_statement') {
        const bodyNode = node.childForFieldName('body');
        if (!bodyNode) throw new Error(`loop without body: ${node.text}`);
        const inner = bodyOf(bodyNode);
        const named = present(node.namedChildren).filter((child) => child.type !== 'comment');
        const initializer = node.childForFieldName('initializer') ?? childOfType(node, 'for_loop_parameters');
        const loopOver = named.find((child) => child.id !== initializer?.id && child.id !== bodyNode.id);
        return { ...inner, loopOver: loopOver?.text };
    }
    throw new Error(`unexpected declaration body ${node.type}: ${node.text.slice(0, 80)}`);
}

function resourceOf(node: Node): Resource {
    const named = present(node.namedChildren);
    const typeNode = named[1];
    const bodyNode = named[named.length - 1];
    return {
        symbol: named[0].text,
        type: stringLiteral(typeNode) ?? typeNode.text,
        existing: present(node.children).some((child) => child.type === 'existing'),
        ...bodyOf(bodyNode),
        node,
    };
}

/** The properties of an object expression, by key (quoted keys without their quotes). */
export function objectProperties(node: Node | undefined): Map<string, Node> {
    const result = new Map<string, Node>();
    if (node?.type !== 'object') return result;
    for (const property of present(node.namedChildren)) {
        if (property.type !== 'object_property') continue;
        const parts = present(property.namedChildren).filter((part) => part.type !== 'comment');
        if (parts.length < 2) continue;
        const key = parts[0].type === 'string' ? (stringLiteral(parts[0]) ?? parts[0].text) : parts[0].text;
        result.set(key, parts[1]);
    }
    return result;
}

/** The value at a property path, e.g. property(body, 'properties', 'roleDefinitionId'). */
export function property(node: Node | undefined, ...keys: string[]): Node | undefined {
    let current = node;
    for (const key of keys) current = objectProperties(current).get(key);
    return current;
}

/** The elements of an array expression. */
export function arrayItems(node: Node | undefined): Node[] {
    if (node?.type !== 'array') return [];
    return present(node.namedChildren).filter((child) => child.type !== 'comment' && child.type !== 'decorators');
}

const escapes: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };

/** A string's value with interpolations written as ${<expression>}. */
export function stringTemplate(node: Node): string {
    if (node.type !== 'string') return node.text;
    const content = present(node.children).filter((child) => child.type !== "'" && child.type !== "'''");
    return content
        .map((part) => {
            if (part.type === 'interpolation') return part.text;
            if (part.type === 'escape_sequence') return escapes[part.text] ?? part.text;
            return part.text;
        })
        .join('');
}

/** A string literal's value, or undefined for anything else (including interpolated strings). */
export function stringLiteral(node: Node | undefined): string | undefined {
    if (node?.type !== 'string') return undefined;
    if (present(node.namedChildren).some((child) => child.type === 'interpolation')) return undefined;
    return stringTemplate(node);
}
