import { LINK_NET, type SlotAddresses } from './addressing.js';

/** The tap device (guest side) and the veth end (uplink side) inside every bunker's namespace. */
export const GUEST_DEVICE = 'tap0';
export const LINK_DEVICE = 'up0';
/** Addresses a filtered bunker may hold allowed at once (a wildcard entry must not grow its set without end). */
export const ALLOWED_SET_SIZE = 16384;

/** The nflog group denied packets are copied to, inside each bunker's namespace (see deny-log.ts). */
export const DENY_LOG_GROUP = 1;

/** What a bunker's namespace lets its guest reach. */
export interface BunkerRulesetInput {
  addresses: SlotAddresses;
  /** Where the guest's DNS queries to its gateway are sent (the worker's resolver). */
  dns: { address: string; port: number };
  /** `open`: any outside address; `filtered`: only those in the `allowed` set (filled from DNS answers). */
  egress: 'open' | 'filtered';
}

/**
 * The nftables ruleset of one bunker's namespace, loaded in one transaction. It lives and
 * dies with the namespace: a crashed worker leaves nothing of it in the host's tables.
 * Whatever the profile, the guest sends only from its own IPv4 address (a forged one would
 * slip past the egress audit; it is dropped without a word, since a reject would be sent to
 * the forged address), and never reaches the link network (other bunkers, the uplink host)
 * nor link-local addresses (cloud metadata services), except the resolver. Refusals are
 * copied to the deny log at a bounded rate, their first bytes only. Nothing in the namespace
 * itself may send anywhere but to its guest: not even its VMM, should it ever be subverted.
 */
export function bunkerRuleset({ addresses, dns, egress }: BunkerRulesetInput): string {
  const fromGuest = `iifname "${GUEST_DEVICE}" oifname "${LINK_DEVICE}"`;
  return `table inet scaibunker {
  set allowed {
    type ipv4_addr
    flags timeout
    size ${ALLOWED_SET_SIZE}
  }
  counter denied {
  }
  counter forged {
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "${GUEST_DEVICE}" ip daddr ${addresses.gateway} meta l4proto { tcp, udp } th dport 53 dnat ip to ${dns.address}:${dns.port}
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${LINK_DEVICE}" masquerade
  }
  chain forward {
    type filter hook forward priority filter; policy drop;
    iifname "${GUEST_DEVICE}" meta nfproto ipv6 counter name forged drop
    iifname "${GUEST_DEVICE}" ip saddr != ${addresses.guest} counter name forged drop
    ct state established,related accept
    ct state invalid drop
    ${fromGuest} ip daddr ${dns.address} meta l4proto { tcp, udp } th dport ${dns.port} accept
    ${fromGuest} ip daddr { ${LINK_NET}, 169.254.0.0/16 } goto deny
    ${egress === 'open' ? `${fromGuest} accept` : `${fromGuest} ip daddr @allowed accept`}
    iifname "${GUEST_DEVICE}" goto deny
  }
  chain deny {
    counter name denied
    limit rate 50/second burst 100 packets log prefix "deny " group ${DENY_LOG_GROUP} snaplen 64
    meta l4proto tcp reject with tcp reset
    reject with icmpx admin-prohibited
  }
  chain input {
    type filter hook input priority filter; policy drop;
    iifname "lo" accept
    ct state established,related accept
  }
  chain output {
    type filter hook output priority filter; policy drop;
    oifname "lo" accept
    oifname "${GUEST_DEVICE}" accept
  }
}
`;
}

/**
 * The worker's one table in its uplink namespace, replaced whole (idempotent): bunkers'
 * traffic leaves masqueraded, never crosses from one bunker's link to another's, and reaches
 * the uplink host itself only at the resolver's port: any other local address is refused
 * before the host's own DNAT rules (published container ports, node ports) could take it,
 * and nothing a host rule redirected is forwarded for a bunker.
 */
export function uplinkRuleset(dnsPort: number): string {
  return `table ip scaibunker_uplink {
}
delete table ip scaibunker_uplink
table ip scaibunker_uplink {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${LINK_NET} oifname != "sbv*" masquerade
  }
  chain guard {
    type filter hook prerouting priority -150; policy accept;
    iifname "sbv*" fib daddr type local meta l4proto { tcp, udp } th dport ${dnsPort} accept
    iifname "sbv*" fib daddr type local drop
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "sbv*" oifname "sbv*" drop
    iifname "sbv*" ct status dnat drop
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "sbv*" ct state established,related accept
    iifname "sbv*" meta l4proto { tcp, udp } th dport ${dnsPort} accept
    iifname "sbv*" drop
    meta l4proto { tcp, udp } th dport ${dnsPort} drop
  }
}
`;
}

/**
 * `bandwidth_mbit` as two token buckets in the bunker's namespace: on `up0` (what the guest
 * sends out) and on the tap (what it receives). Egress qdiscs both, so no ifb device is
 * needed, and they go with the namespace. The burst holds 20 ms at the rate (at least 32 KiB,
 * more than one 64 KiB GSO frame never needs: tbf splits those).
 */
export function bandwidthQdiscs(mbit: number): string {
  const burstBytes = Math.max(32 * 1024, Math.round((mbit * 1_000_000) / 8 / 50));
  return [LINK_DEVICE, GUEST_DEVICE].map((device) => `qdisc add dev ${device} root tbf rate ${mbit}mbit burst ${burstBytes} latency 50ms`).join('\n') + '\n';
}

/** The bridge device inside every transit bridge's namespace. */
export const BRIDGE_DEVICE = 'br0';

/**
 * A transit bridge's one table (in its own namespace): frames entering from a guarded port
 * (`spoof_guard` on) must carry that port's own MAC as their source, and ARP its own MAC as
 * sender; the others are counted and dropped. Ports are added and removed as set elements.
 */
export function bridgeRuleset(): string {
  return `table bridge scaibunker {
  set guarded {
    type ifname
  }
  set own {
    type ifname . ether_addr
  }
  counter spoofed {
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname @guarded iifname . ether saddr != @own counter name spoofed drop
    iifname @guarded ether type arp iifname . arp saddr ether != @own counter name spoofed drop
  }
}
`;
}
