/**
 * Preloaded into the chaos run's Azurite (`node --require dist/dev/chaos/azuriteClock.js`), and used
 * nowhere else. It shifts Azurite's clock: by CHAOS_CLOCK_OFFSET_MS from the start, and by
 * CHAOS_CLOCK_STEP_MS more on every SIGUSR2, acknowledged with a line on stderr.
 *
 * Why: a Functions host holds each queue message it works on invisible for 10 minutes (renewed
 * while the function runs). When the host is killed, or storage goes away under it, the messages
 * it held come back only when those 10 minutes are over, in Azure as locally. Moving storage's
 * clock on by the hold stands in for waiting those minutes, so a chaos run shows in seconds what
 * the system does in ten minutes (`npm run chaos -- --real-hold` waits them out instead).
 * Everything visibility depends on (receive, update, peek) reads Azurite's clock, so the messages
 * reappear exactly as they would after the wait.
 */
const RealDate = Date;
let offsetMs = Number(process.env.CHAOS_CLOCK_OFFSET_MS ?? 0) || 0;
const stepMs = Number(process.env.CHAOS_CLOCK_STEP_MS ?? 0) || 0;

class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
        if (args.length === 0) super(RealDate.now() + offsetMs);
        else super(...(args as [string | number | Date]));
    }

    static override now(): number {
        return RealDate.now() + offsetMs;
    }
}

globalThis.Date = ShiftedDate as DateConstructor;

process.on('SIGUSR2', () => {
    offsetMs += stepMs;
    process.stderr.write(`chaos-clock offsetMs=${offsetMs}\n`);
});
