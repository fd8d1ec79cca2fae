import type { ProcessEvent, ProcessExit } from '@scaibunker/sdk';
import { writeAll } from '../output.js';

/**
 * Prints a process's events as they arrive: stdout text to stdout, stderr text to stderr, a
 * note on stderr for output the server no longer kept; answers the exit, if one came.
 */
export async function printEvents(events: AsyncIterable<ProcessEvent>): Promise<ProcessExit | undefined> {
  let exit: ProcessExit | undefined;
  for await (const event of events) {
    if ('stdout' in event) await writeAll(process.stdout, event.stdout);
    else if ('stderr' in event) await writeAll(process.stderr, event.stderr);
    else if ('dropped' in event) process.stderr.write(`scaibunker: ${event.dropped} bytes of earlier output were not kept\n`);
    else if ('exit' in event) exit = event.exit;
  }
  return exit;
}
