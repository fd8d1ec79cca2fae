/**
 * The least a transport must offer to carry a link: ordered, reliable, message-framed delivery
 * of text and binary messages (a WebSocket; see `wsChannel`).
 */
export interface MessageChannel {
  /** Queues one message; never blocks. Text carries JSON, binary carries stream frames. */
  send(data: string | Uint8Array): void;
  /** Bytes queued by `send` and not yet handed to the operating system. */
  bufferedAmount(): number;
  onMessage(listener: (data: string | Uint8Array) => void): void;
  /** Called whenever queued bytes may have gone down (spurious calls are fine): resumes DATA. */
  onDrain(listener: () => void): void;
  /** Called once, when the transport is gone for whatever reason. */
  onClose(listener: (reason: Error) => void): void;
  /** Closes the transport; `code` follows WebSocket close codes (1000 normal, 1008 policy, …). */
  close(code?: number, reason?: string): void;
}
