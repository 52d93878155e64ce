/**
 * Outside the Functions host, @azure/functions warns once per registration that it runs in
 * "test mode". Those lines say nothing about the code under test, so they are dropped here;
 * every other warning still prints.
 */
const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
    const first = typeof args[0] === 'string' ? args[0] : '';
    if (first.includes('"@azure/functions" package') || first.includes('Failed to detect the Azure Functions runtime'))
        return;
    warn(...args);
};
