import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isoFromEpochText } from './event-time.js';
import { DENY_LOG_GROUP } from './rulesets.js';

/** A packet a bunker's firewall refused (see the `deny` chain in rulesets.ts). */
export interface ConnectionDenial {
  at: string;
  protocol: string;
  source: string;
  destination: string;
  port?: number | undefined;
}

const LINE = /^(\d+)\.(\d+) IP (\d+\.\d+\.\d+\.\d+)(?:\.\d+)? > (\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?: (\S+)/;

/** One line of `tcpdump -tt -nn -q` on the nflog device, or undefined for what is not an IPv4 packet. */
export function parseDenialLine(line: string): ConnectionDenial | undefined {
  const match = LINE.exec(line.trim());
  if (!match) return undefined;
  const protocol = match[6]!.replace(/,$/, '').toLowerCase();
  return {
    at: isoFromEpochText(match[1]!, match[2]!),
    protocol, source: match[3]!, destination: match[4]!, port: match[5] === undefined ? undefined : Number(match[5]),
  };
}

/**
 * Reads the refused packets of one bunker's namespace, as its firewall copies them to nflog
 * (tcpdump reads nflog groups; one small process per filtered bunker). Ends with `stop()`,
 * or by itself when the namespace is deleted.
 */
export class DenyLogReader {
  private readonly child: ChildProcess;

  constructor(netns: string, onDenial: (denial: ConnectionDenial) => void) {
    // tcpdump parses guest-made packets: it drops root once nflog is open (its default).
    this.child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', `nflog:${DENY_LOG_GROUP}`, '-tt', '-nn', '-q', '-l'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child.on('error', () => undefined);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const denial = parseDenialLine(line);
      if (denial) onDenial(denial);
    });
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}
