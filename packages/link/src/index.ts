export type { MessageChannel } from './message-channel.js';
export { LinkPeer, LINK_DEFAULTS, type LinkPeerOptions, type CallOptions, type CallContext, type LinkHandler } from './link-peer.js';
export type { LinkRole } from './stream-table.js';
export { LinkStream } from './link-stream.js';
export { FrameKind, MAX_DATA_BYTES, MAX_RESET_REASON_BYTES } from './link-frame.js';
export { MAX_TEXT_BYTES, MAX_NAME_LENGTH } from './link-message.js';
export { wsChannel, LINK_SUBPROTOCOL, LINK_MAX_PAYLOAD_BYTES, type WsChannelOptions } from './ws-channel.js';
