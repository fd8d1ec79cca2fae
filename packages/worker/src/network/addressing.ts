/**
 * Every networked bunker on a worker has a slot, which gives it its addresses:
 * - guest side, inside its namespace, 100.96.0.0/16: the guest's own address (slot * 4 + 2),
 *   and the tap's, 100.96.0.1, the guest's gateway and resolver — the same in every bunker's
 *   namespace, so a template's route and /etc/resolv.conf already suit all its clones (a
 *   clone sets only its MAC and address, ~20 ms less of a TCG start than writing a file);
 * - link side, a /30 from 100.97.0.0/16: a veth pair from the uplink namespace (where the
 *   worker's uplink is) into the bunker's.
 * Both come from the shared address space of RFC 6598, which hosts rarely route themselves.
 */
export const MAX_SLOTS = 16384;
export const LINK_NET = '100.97.0.0/16';
/** Every guest's gateway and resolver: the tap's address in its bunker's namespace. */
export const GUEST_GATEWAY = '100.96.0.1';

/** The addresses of one slot. */
export interface SlotAddresses {
  /** The tap inside the bunker's namespace: the guest's gateway and DNS resolver (GUEST_GATEWAY). */
  gateway: string;
  guest: string;
  guestPrefix: 16;
  /** The veth end in the uplink namespace (named `uplinkDevice`), and the one in the bunker's (`up0`). */
  linkUplink: string;
  linkBunker: string;
  linkPrefix: 30;
  uplinkDevice: string;
}

export function slotAddresses(slot: number): SlotAddresses {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new RangeError(`slot ${slot} is outside 0..${MAX_SLOTS - 1}`);
  const base = slot * 4;
  const at = (second: number, host: number) => `100.${second}.${(base >> 8) & 0xff}.${(base & 0xff) + host}`;
  return { gateway: GUEST_GATEWAY, guest: at(96, 2), guestPrefix: 16, linkUplink: at(97, 1), linkBunker: at(97, 2), linkPrefix: 30, uplinkDevice: `sbv${slot}` };
}
