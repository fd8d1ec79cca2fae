import { ScaiError, type ErrorCode } from '@scaibunker/contracts';
import { Key, type TlvFields } from './tlv.js';

const CODE_BY_AGENT_CODE: Record<string, ErrorCode> = {
  NOT_FOUND: 'GUEST_PATH_NOT_FOUND',
  PERMISSION_DENIED: 'GUEST_PERMISSION_DENIED',
  EXISTS: 'GUEST_CONFLICT',
  NOT_A_DIRECTORY: 'GUEST_CONFLICT',
  IS_A_DIRECTORY: 'GUEST_CONFLICT',
  NOT_EMPTY: 'GUEST_CONFLICT',
  NO_SPACE: 'GUEST_DISK_FULL',
  SPAWN_FAILED: 'COMMAND_NOT_FOUND',
  NO_SUCH_USER: 'VALIDATION_ERROR',
  SEALED: 'BUNKER_NOT_RUNNING',
};

/** An ERROR frame from the agent, translated where it enters into the platform's codes. */
export class AgentError extends ScaiError {
  constructor(
    readonly agentCode: string,
    message: string,
    readonly errno: number | undefined,
  ) {
    super(CODE_BY_AGENT_CODE[agentCode] ?? 'GUEST_ERROR', `${message} (${agentCode}${errno ? `, errno ${errno}` : ''})`,
      agentCode === 'NO_SUCH_USER' ? { details: [{ field: 'user', message: 'no such account in the image' }] } : {});
  }

  static fromFields(fields: TlvFields): AgentError {
    return new AgentError(fields.string(Key.ERR_CODE) ?? 'IO', fields.string(Key.ERR_MESSAGE) ?? 'guest agent error', fields.number(Key.ERRNO));
  }
}
