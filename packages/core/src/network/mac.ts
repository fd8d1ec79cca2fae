import { randomBytes } from 'node:crypto';

/** A fresh locally administered unicast MAC address (02:xx:…): clones and generated interfaces never share one. */
export function randomMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Whether a MAC (`aa:bb:…`) is unicast: a NIC takes no multicast or broadcast address as its own. */
export function isUnicastMac(mac: string): boolean {
  return (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}
