/** `scaibunker serve`: runs the process role chosen by SCAIGRID_MODE until SIGINT/SIGTERM. */
export async function serve(): Promise<void> {
  // Loaded here so that client commands never pay for the server's dependencies.
  const { loadConfig, startServer } = await import('@scaibunker/controller');
  const server = await startServer(loadConfig());
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
