'use strict';
/*
 * Runs the compiled BrokerProcessor (dist/functions/brokerProcessor.js, as the Functions host
 * loads it), or the function named in argv[3] (e.g. brokerSender: dist/functions/brokerSender.js,
 * its export of that name), on the messages given as a JSON array in argv[2], one invocation after the other, in
 * this process alone, and reports over IPC:
 *   { type: 'log', level, line }                       every log line
 *   { type: 'invoked', index, baselineRss, peakRss, maxRss, error? }   after each invocation
 * baselineRss is the RSS right before the invocation (after a GC), peakRss the highest RSS sampled
 * every 20 ms during it, maxRss the process's peak RSS so far (getrusage). Settings come from the
 * environment, exactly as the function reads them. Needs `npm run build` first.
 */
const { InvocationContext } = require('@azure/functions');
const functionName = process.argv[3] ?? 'brokerProcessor';
const handler = require(`../../../dist/functions/${functionName}.js`)[functionName];

function send(message) {
    return new Promise((resolve) => process.send(message, () => resolve()));
}

async function main() {
    const messages = JSON.parse(process.argv[2]);
    for (let index = 0; index < messages.length; index++) {
        const context = new InvocationContext({
            functionName: functionName[0].toUpperCase() + functionName.slice(1),
            invocationId: `child-${index}`,
            logHandler: (level, ...args) => void send({ type: 'log', level, line: args.map(String).join(' ') }),
        });
        if (global.gc) global.gc();
        const baselineRss = process.memoryUsage().rss;
        let peakRss = baselineRss;
        const sampler = setInterval(() => {
            peakRss = Math.max(peakRss, process.memoryUsage().rss);
        }, 20);
        let error;
        try {
            await handler(messages[index], context);
        } catch (caught) {
            error = caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught);
        }
        clearInterval(sampler);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        const maxRss = process.resourceUsage().maxRSS * 1024;
        await send({ type: 'invoked', index, baselineRss, peakRss, maxRss, error });
    }
}

main().then(
    () => process.exit(0),
    (error) => {
        console.error(error);
        process.exit(1);
    },
);
