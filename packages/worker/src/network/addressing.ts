/**
 * Every networked bunker on a worker has a slot; the slot gives it two /30 subnets:
 * - guest side, inside its namespace: the tap's address (the guest's gateway and resolver)
 *   and the guest's own address, from 100.96.0.0/16;
 * - link side: a veth pair from the uplink namespace (where the worker's uplink is) into
 *   the bunker's, from 100.97.0.0/16.
 * Both come from the shared address space of RFC 6598, which hosts rarely route themselves.
 */
export const MAX_SLOTS = 16384;
export const GUEST_NET = '100.96.0.0/16';
export const LINK_NET = '100.97.0.0/16';

/** The addresses of one slot. */
export interface SlotAddresses {
  /** The tap inside the bunker's namespace: the guest's gateway and DNS resolver. */
  gateway: string;
  guest: string;
  /** The veth end in the uplink namespace (named `uplinkDevice`), and the one in the bunker's (`up0`). */
  linkUplink: string;
  linkBunker: string;
  uplinkDevice: string;
  prefix: 30;
}

export function slotAddresses(slot: number): SlotAddresses {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS) throw new RangeError(`slot ${slot} is outside 0..${MAX_SLOTS - 1}`);
  const base = slot * 4;
  const at = (second: number, host: number) => `100.${second}.${(base >> 8) & 0xff}.${(base & 0xff) + host}`;
  return { gateway: at(96, 1), guest: at(96, 2), linkUplink: at(97, 1), linkBunker: at(97, 2), uplinkDevice: `sbv${slot}`, prefix: 30 };
}
