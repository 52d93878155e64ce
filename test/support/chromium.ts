/**
 * The Chromium the browser tests drive through playwright-core, which brings no browser of its own:
 * Debian's `chromium` (what .ci/run installs), or another one named by CHROMIUM_PATH.
 */
import { existsSync } from 'node:fs';

export const chromiumPathVariable = 'CHROMIUM_PATH';
export const debianChromium = '/usr/bin/chromium';

/** The executable, or an error that says in one line how to get one (no stack: it is not a bug in the test). */
export function chromiumExecutable(env: NodeJS.ProcessEnv = process.env, fallback = debianChromium): string {
    const path = env[chromiumPathVariable] || fallback;
    if (existsSync(path)) return path;
    const how = env[chromiumPathVariable]
        ? `${chromiumPathVariable}=${path} names no file: point it at a Chromium executable, or unset it to use ${fallback}`
        : `install it with \`sudo apt-get install chromium\` (Debian, Ubuntu), or set ${chromiumPathVariable} to another Chromium or Chrome executable`;
    const error = new Error(`The browser test needs Chromium and ${path} is missing: ${how}.`);
    error.stack = error.message;
    throw error;
}
