// The channels of one emulated FreeSWITCH, for the events a listener is sent from channels other than
// its own. mod_event_socket offers every event to every listener (event_handler): one subscribed with
// `event` rather than `myevents` is sent the events of each channel that pass its filters. EmulatedCalls
// whose filters name channels by Unique-ID alone are kept by those uuids, so that an event costs the
// listeners that can take it, not every call up: a load of thousands of calls stays linear.
import type { EmulatedCall } from './call.ts';

/** Whom a listener can be sent events of besides its own channel (Subscription.reach). */
export type Reach =
  | { readonly _tag: 'Own' }
  /** Positive `filter Unique-ID <uuid>` lines and no other filter: those channels, lower-cased as FreeSWITCH compares them. */
  | { readonly _tag: 'Named'; readonly uuids: readonly string[] }
  | { readonly _tag: 'Any' };

export class Channels {
  private readonly named = new Map<string, Set<EmulatedCall>>();
  private readonly any = new Set<EmulatedCall>();
  private readonly placed = new Map<EmulatedCall, Reach>();

  /** Files a listener under what its subscription now reaches (after every subscription command). */
  place(listener: EmulatedCall, reach: Reach): void {
    this.remove(listener);
    this.placed.set(listener, reach);
    if (reach._tag === 'Any') this.any.add(listener);
    else if (reach._tag === 'Named') {
      for (const uuid of reach.uuids) {
        let set = this.named.get(uuid);
        if (set === undefined) this.named.set(uuid, (set = new Set()));
        set.add(listener);
      }
    }
  }

  remove(listener: EmulatedCall): void {
    const reach = this.placed.get(listener);
    if (reach === undefined) return;
    this.placed.delete(listener);
    if (reach._tag === 'Any') this.any.delete(listener);
    else if (reach._tag === 'Named') {
      for (const uuid of reach.uuids) {
        const set = this.named.get(uuid);
        set?.delete(listener);
        if (set?.size === 0) this.named.delete(uuid);
      }
    }
  }

  /** The listeners that may be sent an event of the channel `uuid`: their types and filters still decide. */
  reaching(uuid: string): EmulatedCall[] {
    return [...(this.named.get(uuid.toLowerCase()) ?? []), ...this.any];
  }
}
