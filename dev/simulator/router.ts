import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Listener } from './types';

export interface RequestContext {
    readonly req: IncomingMessage;
    readonly res: ServerResponse;
    readonly url: URL;
    readonly params: Record<string, string>;
    readonly listener: Listener;
    readonly endpoint: string;
    /** Set by handlers that stream a data element or file, so its bytes are counted per id. */
    contentKey?: string;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

export interface RouteDefinition {
    listener: Listener;
    method: string;
    /** '/a/{name}/b/{id:int}' with constraints int, guid; a trailing slash is tolerated as in ASP.NET. */
    path: string;
    endpoint: string;
    handler: Handler;
}

interface CompiledRoute extends RouteDefinition {
    regex: RegExp;
    names: string[];
}

const constraints: Record<string, string> = {
    int: '\\d+',
    guid: '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}',
    any: '[^/]+',
};

function compile(route: RouteDefinition): CompiledRoute {
    const names: string[] = [];
    const source = route.path
        .split('/')
        .map((segment) => {
            const param = /^\{(\w+)(?::(\w+))?\}$/.exec(segment);
            if (!param) {
                return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            }
            names.push(param[1]);
            return `(${constraints[param[2] ?? 'any']})`;
        })
        .join('/');
    return { ...route, regex: new RegExp(`^${source}/?$`, 'i'), names };
}

export type RouteMatch =
    | { kind: 'found'; route: RouteDefinition; params: Record<string, string> }
    | { kind: 'methodNotAllowed'; endpoint: string }
    | { kind: 'notFound' };

export class Router {
    private readonly routes: CompiledRoute[];

    constructor(routes: RouteDefinition[]) {
        this.routes = routes.map(compile);
    }

    match(listener: Listener, method: string, pathname: string): RouteMatch {
        let pathMatched: CompiledRoute | undefined;
        for (const route of this.routes) {
            if (route.listener !== listener) {
                continue;
            }
            const m = route.regex.exec(pathname);
            if (!m) {
                continue;
            }
            if (route.method !== method) {
                pathMatched ??= route;
                continue;
            }
            const params: Record<string, string> = {};
            route.names.forEach((name, i) => {
                params[name] = decodeURIComponent(m[i + 1]);
            });
            return { kind: 'found', route, params };
        }
        return pathMatched ? { kind: 'methodNotAllowed', endpoint: pathMatched.endpoint } : { kind: 'notFound' };
    }
}
