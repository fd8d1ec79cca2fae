import { isId, ScaiError, type TransitInterfaceLaunch } from '@scaibunker/contracts';
import { addNetns, deleteNetns, ipBatch, listNetns, loadRuleset, netnsPath, runIn } from './netns.js';
import { BRIDGE_DEVICE, bridgeRuleset } from './rulesets.js';

/** A transit NIC as its VM needs it: its tap, in its bridge's namespace. */
export interface TransitPort {
  netnsPath: string;
  tap: string;
  mac: string;
}

/**
 * The transit bridges of one worker: each a namespace of its own (`sbbr-<tag>-<bridge id>`)
 * holding a Linux bridge and its spoof-guard table (rulesets.ts), and the taps of the bunkers
 * attached to it, one per transit interface (`t<slot>x<n>`), which the jailer opens there.
 * Bridges are the controller's to make and delete; they outlive worker restarts.
 */
export class TransitBridges {
  constructor(private readonly prefix: string) {}

  /** Makes a bridge (idempotent: also how one lost to a host reboot comes back, empty). */
  async create(bridgeId: string): Promise<void> {
    const netns = this.netnsOf(bridgeId);
    if ((await listNetns(netns)).includes(netns)) return;
    try {
      await addNetns(netns);
      await ipBatch(netns, ['link set lo up', `link add ${BRIDGE_DEVICE} type bridge`, `link set ${BRIDGE_DEVICE} up`]);
      await loadRuleset(netns, bridgeRuleset());
    } catch (error) {
      await deleteNetns(netns);
      throw error;
    }
  }

  async delete(bridgeId: string): Promise<void> {
    await deleteNetns(this.netnsOf(bridgeId));
  }

  /** The ports of a bunker's transit interfaces (the bunker holding network slot `slot`). */
  ports(slot: number, interfaces: readonly TransitInterfaceLaunch[]): TransitPort[] {
    return interfaces.map((nic, i) => ({ netnsPath: netnsPath(this.netnsOf(nic.bridgeId)), tap: tapOf(slot, i + 1), mac: nic.mac }));
  }

  /** Adds a bunker's taps to their bridges, each guarded to its own MAC unless `spoofGuard` is off. */
  async attach(slot: number, interfaces: readonly TransitInterfaceLaunch[]): Promise<void> {
    for (const [i, nic] of interfaces.entries()) {
      const bridge = this.netnsOf(nic.bridgeId);
      await this.create(nic.bridgeId);
      const tap = tapOf(slot, i + 1);
      await ipBatch(bridge, [`tuntap add dev ${tap} mode tap`, `link set ${tap} master ${BRIDGE_DEVICE}`, `link set ${tap} up`]);
      if (nic.spoofGuard) await runIn(bridge, 'nft', ['-f', '-'], `add element bridge scaibunker guarded { "${tap}" }\nadd element bridge scaibunker own { "${tap}" . ${nic.mac} }\n`);
    }
  }

  /** Removes a bunker's taps and their guard entries (those already gone are fine). */
  async detach(slot: number, interfaces: readonly TransitInterfaceLaunch[]): Promise<void> {
    for (const [i, nic] of interfaces.entries()) {
      const bridge = this.netnsOf(nic.bridgeId);
      const tap = tapOf(slot, i + 1);
      await runIn(bridge, 'ip', ['link', 'delete', tap]).catch(() => undefined);
      // An unguarded tap has no entries: the batch fails, which is fine.
      await runIn(bridge, 'nft', ['-f', '-'], `delete element bridge scaibunker guarded { "${tap}" }\ndelete element bridge scaibunker own { "${tap}" . ${nic.mac} }\n`).catch(() => undefined);
    }
  }

  /** Deletes the taps of slots no bunker holds any more (a crash between making and recording one). */
  async reconcile(liveSlots: ReadonlySet<number>): Promise<void> {
    for (const bridge of await listNetns(this.prefix)) {
      const links = (await runIn(bridge, 'ip', ['-o', 'link', 'show']).catch(() => ({ stdout: '' }))).stdout;
      for (const match of links.matchAll(/^\d+: (t(\d+)x\d+)[@:]/gm)) {
        if (!liveSlots.has(Number(match[2]))) await runIn(bridge, 'ip', ['link', 'delete', match[1]!]).catch(() => undefined);
      }
    }
  }

  private netnsOf(bridgeId: string): string {
    if (!isId('bridge', bridgeId)) throw new ScaiError('VALIDATION_ERROR', `Not a bridge id: ${String(bridgeId).slice(0, 40)}.`);
    return `${this.prefix}${bridgeId}`;
  }
}

/** The tap of a bunker's transit interface `index` (1-based; eth0 is the bunker's own tap0). */
function tapOf(slot: number, index: number): string {
  return `t${slot}x${index}`;
}
