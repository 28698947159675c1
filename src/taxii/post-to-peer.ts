// The PeerPost that federation messages (flashes, acknowledgements, recalls) travel with: one
// short-lived TAXII client per message, on the peer's origin, with the peer's token and a deadline.
import type { PeerPost } from '../federation/message-delivery.ts';
import { openTaxiiClient } from './taxii-client.ts';

/** Answers to signed messages are small; anything larger is refused. */
const MAX_ANSWER_BYTES = 1024 * 1024;

export const postToPeer: PeerPost = async (peer, path, body, options) => {
  const client = openTaxiiClient({ url: peer.apiRootUrl, token: peer.token, timeoutMs: options.timeoutMs, maxResponseBytes: MAX_ANSWER_BYTES });
  try {
    return await client.postJson(path, body);
  } finally {
    client.close();
  }
};
