import type { Role, User } from '@scaibunker/contracts';
import type { UserRow } from '@scaibunker/db';

/** A stored user as the API shows it. */
export function toUserDto(row: UserRow): User {
  return { ...row, role: row.role as Role, disabled: row.disabled !== 0 };
}
