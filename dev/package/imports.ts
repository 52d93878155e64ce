/**
 * What the bundled code loads from outside itself: every `require(...)` and `import(...)` call in
 * it, found by parsing it as JavaScript (TypeScript's parser, so that strings, comments and regular
 * expressions that merely contain the word are not counted). In the package nothing is installed
 * beside the bundle, so each must name a Node built-in, a module the Functions worker provides or
 * another file of the package; a computed name could be anything, so it is refused too.
 */
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import ts from 'typescript';

/** `@azure/storage-blob/x` -> `@azure/storage-blob`, `undici/y` -> `undici`. */
export function packageNameOf(specifier: string): string {
    const parts = specifier.split('/');
    return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

export function isBuiltin(specifier: string): boolean {
    return specifier.startsWith('node:') || builtinModules.includes(packageNameOf(specifier));
}

export interface ModuleLoad {
    /** The module name, or undefined when the call computes it. */
    specifier: string | undefined;
    /** 1-based, as in a stack trace. */
    line: number;
    column: number;
}

export function moduleLoads(code: string, fileName: string): ModuleLoad[] {
    const source = ts.createSourceFile(fileName, code, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
    const loads: ModuleLoad[] = [];
    const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node) && isModuleLoad(node.expression)) {
            const [argument] = node.arguments;
            const { line, character } = source.getLineAndCharacterOfPosition(node.getStart(source));
            loads.push({
                specifier: argument && ts.isStringLiteralLike(argument) ? argument.text : undefined,
                line: line + 1,
                column: character + 1,
            });
        }
        ts.forEachChild(node, visit);
    };
    visit(source);
    return loads;
}

/** `require(...)` (the module's own, not a method of something) or `import(...)`. */
function isModuleLoad(callee: ts.Expression): boolean {
    return (ts.isIdentifier(callee) && callee.text === 'require') || callee.kind === ts.SyntaxKind.ImportKeyword;
}

/**
 * One line per load of something that will not be there at run time. `fileName` and `packaged` are
 * paths in the package (`dist/main.js`); a relative name must be one of `packaged`.
 */
export function unavailableModules(
    code: string,
    fileName: string,
    provided: readonly string[],
    packaged: ReadonlySet<string>,
): string[] {
    const available = (specifier: string): boolean =>
        specifier.startsWith('.')
            ? packaged.has(posix.join(posix.dirname(fileName), specifier))
            : isBuiltin(specifier) || provided.includes(specifier);
    return moduleLoads(code, fileName)
        .filter(({ specifier }) => specifier === undefined || !available(specifier))
        .map(({ specifier, line, column }) =>
            specifier === undefined
                ? `${fileName}:${line}:${column} loads a module whose name it computes at run time`
                : `${fileName}:${line}:${column} loads '${specifier}', which is neither built into Node, nor provided by the Functions worker (${provided.join(', ')}), nor a file of the package`,
        );
}
