import type { Bridge, CreateBridgeBody } from '@scaibunker/contracts';
import type { ListOptions } from './client.js';
import type { HttpTransport, Page } from './http-transport.js';

const enc = encodeURIComponent;
const BRIDGES = '/v1/modules/scaibunker/bridges';

/**
 * A tenant's L2 bridges, each made on one worker: transit bunkers attach interfaces to them by
 * name (`interfaces: [{ if_name, bridge_name }]` at create) and run on that bridge's worker.
 * Creating and deleting need scaibunker:admin.
 * @example
 * const bridge = await client.bridges.create({ name: 'lab' });
 * const bunker = await client.bunkers.create({ image: 'minimal', network_profile: 'transit', interfaces: [{ if_name: 'eth1', bridge_name: 'lab' }] });
 */
export class BridgesApi {
  constructor(private readonly http: HttpTransport) {}

  /** Makes a bridge on a worker (default: the online worker with the most free memory). @example await client.bridges.create({ name: 'lab', worker_id: 'wrk_…' }) */
  create(body: CreateBridgeBody): Promise<Bridge> {
    return this.http.data('POST', BRIDGES, { body });
  }

  /** The caller's tenant's bridges. @example for await (const b of client.all((o) => client.bridges.list(o))) console.log(b.name, b.worker_id) */
  list(options: ListOptions = {}): Promise<Page<Bridge>> {
    return this.http.page(BRIDGES, { ...options });
  }

  /** One bridge of the caller's tenant (another tenant's answers NOT_FOUND). @example (await client.bridges.get(bridgeId)).worker_id */
  get(bridgeId: string): Promise<Bridge> {
    return this.http.data('GET', `${BRIDGES}/${enc(bridgeId)}`);
  }

  /** Deletes a bridge no live bunker is attached to (CONFLICT otherwise); answers with it as it was. @example await client.bridges.delete(bridgeId) */
  delete(bridgeId: string): Promise<Bridge> {
    return this.http.data('DELETE', `${BRIDGES}/${enc(bridgeId)}`);
  }
}
