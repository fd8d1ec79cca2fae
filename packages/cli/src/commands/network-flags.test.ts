import { describe, expect, it } from 'vitest';
import { ScaiError } from '@scaibunker/contracts';
import { networkFields, parseInterface } from './network-flags.js';
import type { CommandContext } from './platform.js';

/** A context with the flags as parseArgs gives them (repeatable flags as arrays); no API is called. */
const withFlags = (flags: CommandContext['flags']): CommandContext => ({
  args: [], flags, json: false, client: () => { throw new Error('flag parsing calls no API'); },
});

const refusal = (run: () => unknown): ScaiError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ScaiError) return error;
    throw error;
  }
  throw new Error('expected a ScaiError');
};

describe('networkFields', () => {
  it('gives no network fields when no network flag is given, so the API’s default (isolated) applies', () => {
    expect(networkFields(withFlags({}))).toEqual({});
  });

  it('maps --network, repeated --allow, --bandwidth and repeated --interface to the create body’s fields', () => {
    expect(networkFields(withFlags({ network: 'allowlisted', allow: ['pypi.org', 'files.pythonhosted.org'], bandwidth: '100' }))).toEqual({
      network_profile: 'allowlisted', network_allowlist: ['pypi.org', 'files.pythonhosted.org'], bandwidth_mbit: 100,
    });
    expect(networkFields(withFlags({ network: 'transit', interface: ['eth1=lab', 'eth2=wan,spoof-guard=off'] }))).toEqual({
      network_profile: 'transit', interfaces: [{ if_name: 'eth1', bridge_name: 'lab' }, { if_name: 'eth2', bridge_name: 'wan', spoof_guard: false }],
    });
  });

  it('refuses a profile the API does not know, naming the ones it does', () => {
    expect(refusal(() => networkFields(withFlags({ network: 'open' })))).toMatchObject({
      code: 'VALIDATION_ERROR', message: '--network must be one of isolated, registry, allowlisted, unrestricted, transit.',
    });
  });

  it('refuses a bandwidth outside 1–10000 Mbit/s or not a whole number', () => {
    for (const bandwidth of ['0', '10001', '1.5', '-3', 'fast', '']) {
      expect(refusal(() => networkFields(withFlags({ network: 'unrestricted', bandwidth })))).toMatchObject({
        code: 'VALIDATION_ERROR', message: `--bandwidth must be a whole number of Mbit/s from 1 to 10000, got "${bandwidth}".`,
      });
    }
    expect(networkFields(withFlags({ bandwidth: '10000' }))).toEqual({ bandwidth_mbit: 10_000 });
  });
});

describe('parseInterface', () => {
  it('reads IF_NAME=BRIDGE, with a bridge name as the API takes it (spaces, dots, equals signs)', () => {
    expect(parseInterface('eth1=lab')).toEqual({ if_name: 'eth1', bridge_name: 'lab' });
    expect(parseInterface('lan0=Lab net.2=b')).toEqual({ if_name: 'lan0', bridge_name: 'Lab net.2=b' });
  });

  it('reads the mac (lower-cased, as the API stores it) and spoof-guard on or off', () => {
    expect(parseInterface('eth1=lab,mac=02:AB:00:00:00:01,spoof-guard=off')).toEqual({ if_name: 'eth1', bridge_name: 'lab', mac: '02:ab:00:00:00:01', spoof_guard: false });
    expect(parseInterface('eth1=lab,spoof-guard=on')).toEqual({ if_name: 'eth1', bridge_name: 'lab', spoof_guard: true });
  });

  it('refuses a value without an interface and a bridge, with the form it takes', () => {
    for (const spec of ['bad', '=lab', 'eth1=', '']) {
      expect(refusal(() => parseInterface(spec))).toMatchObject({
        code: 'VALIDATION_ERROR', message: `--interface takes IF_NAME=BRIDGE[,mac=MAC][,spoof-guard=on|off], got "${spec}": name the interface and its bridge.`,
      });
    }
  });

  it('refuses an interface name the guest cannot have, a malformed MAC, a spoof-guard other than on/off and unknown options', () => {
    expect(refusal(() => parseInterface('Eth1=lab')).message).toContain('IF_NAME is a lowercase letter');
    expect(refusal(() => parseInterface('averyveryverylongname=lab')).message).toContain('IF_NAME is a lowercase letter');
    expect(refusal(() => parseInterface('eth1=lab,mac=02:00:00:00:00')).message).toContain('mac is six hex pairs');
    expect(refusal(() => parseInterface('eth1=lab,spoof-guard=no')).message).toContain('spoof-guard is on or off');
    expect(refusal(() => parseInterface('eth1=lab,vlan=4')).message).toContain('unknown option "vlan=4"');
  });
});
