import { parseArgs } from 'node:util';
import { ScaiError } from '@scaibunker/contracts';
import { clientFromEnvironment } from './client-config.js';
import { BRIDGE_COMMANDS } from './commands/bridges.js';
import { BUNKER_NETWORK_COMMANDS } from './commands/bunker-network.js';
import { BUNKER_COMMANDS } from './commands/bunkers.js';
import { CP_COMMANDS } from './commands/cp.js';
import { EXEC_COMMANDS } from './commands/exec.js';
import { PLATFORM_COMMANDS, type Command, type CommandContext } from './commands/platform.js';
import { PROCESS_COMMANDS } from './commands/processes.js';
import { QUOTA_COMMANDS } from './commands/quotas.js';
import { USAGE_COMMANDS } from './commands/usage.js';
import { serve } from './commands/serve.js';
import { SHELL_COMMANDS } from './commands/shell.js';
import { VM_COMMANDS } from './commands/vm.js';
import { WORKER_COMMANDS } from './commands/workers.js';

const COMMANDS: Record<string, Command> = {
  serve: { usage: 'serve   (SCAIGRID_MODE, SCAIBUNKER_DATA_DIR, SCAIBUNKER_LISTEN, SCAIBUNKER_DATABASE_URL)', run: serve },
  ...PLATFORM_COMMANDS,
  ...BUNKER_COMMANDS,
  ...BUNKER_NETWORK_COMMANDS,
  ...BRIDGE_COMMANDS,
  ...EXEC_COMMANDS,
  ...PROCESS_COMMANDS,
  ...CP_COMMANDS,
  ...SHELL_COMMANDS,
  ...WORKER_COMMANDS,
  ...QUOTA_COMMANDS,
  ...USAGE_COMMANDS,
  ...VM_COMMANDS,
};

function usage(): string {
  const lines = Object.values(COMMANDS).map((c) => `  scaibunker ${c.usage}`);
  return `Usage:\n${lines.join('\n')}\n\nEvery client command takes --json. Host: $SCAIGRID_HOST; key: $SCAIGRID_API_KEY (else $SCAIBUNKER_DATA_DIR/admin.key).\n`;
}

/** Finds the longest command name the argv starts with, e.g. `api-key create`. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const command = COMMANDS[argv.slice(0, words).join(' ')];
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(usage());
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    process.stderr.write(`Unknown command "${argv.join(' ')}".\n${usage()}`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: found.rest,
    options: { json: { type: 'boolean' }, ...(found.command.flags ?? {}) },
    allowPositionals: true,
    strict: true,
  });
  await found.command.run({
    args: positionals,
    flags: values as CommandContext['flags'],
    json: values.json === true,
    client: () => clientFromEnvironment(),
  });
  return 0;
}

/** Socket errors that mean the API could not be reached (the shell's WebSocket reports them bare). */
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN']);

// A reader that went away downstream (`… | head -1`) ends the CLI quietly, as SIGPIPE ends other tools.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(128 + 13);
  throw error;
});

main(process.argv.slice(2)).then(
  (code) => { if (code !== 0) process.exitCode = code; },
  (error: unknown) => {
    if (error instanceof ScaiError) {
      process.stderr.write(`error: ${error.code}: ${error.message}\n`);
      for (const detail of error.details ?? []) process.stderr.write(`  ${detail.field}: ${detail.message}\n`);
      if (error.requestId) process.stderr.write(`  request id: ${error.requestId}\n`);
    } else if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${error.message}\n`);
    } else if (error instanceof TypeError && error.message === 'fetch failed') {
      process.stderr.write(`error: cannot reach the API (${String((error.cause as Error | undefined)?.message ?? error.cause)}). Is the server running?\n`);
    } else if (error instanceof Error && CONNECTION_ERRORS.has(String((error as NodeJS.ErrnoException).code))) {
      process.stderr.write(`error: cannot reach the API (${error.message}). Is the server running?\n`);
    } else if (error instanceof TypeError && error.message === 'terminated') {
      process.stderr.write('error: the connection to the API was cut before the answer ended.\n');
    } else {
      process.stderr.write(`error: ${error instanceof Error ? error.stack : String(error)}\n`);
    }
    process.exitCode = 1;
  },
);
