/**
 * CPU time a process has used so far (user + system), from /proc/<pid>/stat, the kernel's own
 * account; in milliseconds. Linux only, like the memory figure.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
    try {
        ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
        ticksPerSecond = 100;
    }
    return ticksPerSecond;
}

export function processCpuMs(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start with field 3, state; utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[14 - 3]) + Number(fields[15 - 3]);
    return (ticks * 1000) / clockTicks();
}
