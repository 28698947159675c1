// A worker's side of the relayed alert bus (`--workers N`): events raised here go to the primary
// process over the cluster IPC channel to be numbered (alert-sequencer.ts); every numbered event,
// and at start the primary's replay of recent ones, comes back the same way.
import type { BusEvent, BusRelay, RaisedEvent } from './alert-bus.ts';
import { isBusMessage, type RaiseMessage } from './alert-sequencer.ts';
import { sendToPrimary } from '../server/ipc-send.ts';

/** The relay over this process's IPC channel, or undefined when the process has none (one process serves the node). */
export function openProcessBusRelay(channel: NodeJS.Process = process): BusRelay | undefined {
  if (channel.send === undefined) return undefined;
  return {
    send(origin: string, raised: RaisedEvent): boolean {
      const message: RaiseMessage = { entente: 'bus-raise', origin, raised };
      // Node's send() also returns false when messages are only queued behind a backlog: they still
      // arrive, numbered by the primary, so that is not a failure (numbering it here too would give it
      // two ids). One not written at all (the primary is gone, and this worker with it) is dropped.
      return sendToPrimary(channel, message);
    },
    listen(deliver: (event: BusEvent, origin: string | undefined, replayed: boolean) => void): void {
      channel.on('message', (message: unknown) => {
        if (!isBusMessage(message)) return;
        if (message.entente === 'bus-event') deliver(message.event, message.origin, false);
        else if (message.entente === 'bus-replay') for (const event of message.events) deliver(event, undefined, true);
      });
    },
  };
}
