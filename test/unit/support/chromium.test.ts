import { chromiumExecutable } from '../../support/chromium';

/* Without Chromium the browser test fails in one line that says how to get it, not with a Playwright stack. */

const missing = '/nonexistent/aos-test/chromium';

it('says to install Debian’s chromium, or to set CHROMIUM_PATH, when neither is there', () => {
    let error: Error | undefined;
    try {
        chromiumExecutable({}, missing);
    } catch (caught) {
        error = caught as Error;
    }
    expect(error?.message).toBe(
        `The browser test needs Chromium and ${missing} is missing: install it with \`sudo apt-get install chromium\` (Debian, Ubuntu), or set CHROMIUM_PATH to another Chromium or Chrome executable.`,
    );
    expect(error?.stack).toBe(error?.message);
});

it('names CHROMIUM_PATH when it points at nothing', () => {
    expect(() => chromiumExecutable({ CHROMIUM_PATH: missing }, process.execPath)).toThrow(
        `CHROMIUM_PATH=${missing} names no file`,
    );
});

it('takes CHROMIUM_PATH when it names a file, and the Debian path otherwise', () => {
    expect(chromiumExecutable({ CHROMIUM_PATH: process.execPath }, missing)).toBe(process.execPath);
    expect(chromiumExecutable({}, process.execPath)).toBe(process.execPath);
});
