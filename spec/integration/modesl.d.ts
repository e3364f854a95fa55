// modesl 1.2.1 ships no types (there is no @types/modesl). Only the real-FreeSWITCH test driver uses it,
// for its inbound event socket, at a few calls per second: its parser splits and url-decodes every
// header of every event, which the benchmark measured at half the router's CPU, so the router itself
// reads frames with lib/esl/frame-reader.ts. Its Connection and Server are not used: in outbound mode
// Connection subscribes with the global `event` command (every call's events reach every socket),
// sends execute() outside its reply queue, and never settles a pending command when the socket dies.
declare module 'modesl' {
  import type { EventEmitter } from 'node:events';

  export interface EslEvent {
    readonly type: string | undefined;
    readonly headers: ReadonlyArray<{ readonly name: string; readonly value: string | number }>;
    getHeader(name: string): string | number | null;
    getBody(): string;
  }

  export class Parser {
    constructor(source: EventEmitter);
    on(event: 'esl::event', listener: (event: EslEvent, frameHeaders: Record<string, string | number>, body?: string) => void): this;
  }

  const modesl: { Parser: typeof Parser };
  export default modesl;
}
