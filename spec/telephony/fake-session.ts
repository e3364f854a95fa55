import * as E from 'fp-ts/lib/Either.js';
import type { EslCommand } from '../../lib/esl/command.ts';
import type { Frame, ReplyFrame } from '../../lib/esl/frame.ts';
import type { CloseReason, EslFailure, EslSession } from '../../lib/esl/session.ts';

type Headers = Readonly<Record<string, string>>;

const lookup = (headers: Headers) => (name: string): string | undefined => headers[name];

/** A command as the router wrote it: `connect`, `exit`, the application of an `execute`, or an API command's name. */
export const nameOf = (command: EslCommand): string =>
  command._tag === 'Execute' ? command.app : command.line.startsWith('api ') ? command.line.split(' ')[1]! : command.line;

/**
 * An EslSession with nobody behind it: the spec plays FreeSWITCH. Commands are recorded as written;
 * each is answered by `answer` (`+OK` by default, `undefined` to leave it unanswered until `reply`).
 */
export class FakeSession implements EslSession {
  readonly written: Array<readonly EslCommand[]> = [];
  ended = false;
  answer: (command: EslCommand) => ReplyFrame | undefined = () => replyOf('+OK');
  private readonly pending: Array<(reply: E.Either<EslFailure, ReplyFrame>) => void> = [];
  private readonly listeners = new Set<(frame: Frame) => void>();
  private closeReason: CloseReason | undefined;
  private resolveClosed!: (reason: CloseReason) => void;
  readonly closed = new Promise<CloseReason>((resolve) => (this.resolveClosed = resolve));
  private read = 0;

  /** Every command written, in order, by name. */
  commands(): string[] {
    return this.written.flat().map(nameOf);
  }

  readonly send = (commands: readonly EslCommand[]) => async (): Promise<E.Either<EslFailure, readonly ReplyFrame[]>> => {
    if (this.closeReason) return E.left({ _tag: 'SocketClosed' });
    this.written.push(commands);
    const replies = commands.map(
      (command) =>
        new Promise<E.Either<EslFailure, ReplyFrame>>((resolve) => {
          const answer = this.answer(command);
          if (answer === undefined) this.pending.push(resolve);
          else {
            this.read += 1;
            resolve(E.right(answer));
          }
        }),
    );
    const settled = await Promise.all(replies);
    return settled.find(E.isLeft) ?? E.right(settled.map((r) => (r as E.Right<ReplyFrame>).right));
  };

  /** Answers the oldest unanswered command. */
  reply(frame: ReplyFrame): void {
    this.read += 1;
    this.pending.shift()?.(E.right(frame));
  }

  readonly onFrame = (listener: (frame: Frame) => void): (() => void) => {
    if (!this.closeReason) this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  event(name: string, headers: Headers = {}): void {
    this.read += 1;
    const frame: Frame = { _tag: 'Event', name, header: lookup({ 'Event-Name': name, ...headers }) };
    for (const listener of this.listeners) listener(frame);
  }

  disconnect(disposition: 'linger' | 'disconnect'): void {
    this.read += 1;
    const frame: Frame = { _tag: 'DisconnectNotice', disposition, header: lookup({ 'Content-Disposition': disposition }) };
    for (const listener of this.listeners) listener(frame);
  }

  /** FreeSWITCH closes its side. */
  close(reason: CloseReason = { _tag: 'PeerClosed' }): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    for (const settle of this.pending.splice(0)) settle(E.left({ _tag: 'SocketClosed' }));
    this.listeners.clear();
    this.resolveClosed(reason);
  }

  readonly isClosed = (): boolean => this.closeReason !== undefined;
  readonly end = (): void => {
    this.ended = true;
  };
  readonly destroy = (): void => this.close({ _tag: 'LocalClose' });
  readonly bytesRead = (): number => this.read;
}

export const replyOf = (text: string, headers: Headers = {}): ReplyFrame => ({ _tag: 'CommandReply', replyText: text, header: lookup({ 'Reply-Text': text, ...headers }) });

/** A connect reply: the channel data of a call from 380441234567 to 5551234. */
export const connectReply = (mode: 'async' | 'sync', extra: Readonly<Record<string, string | undefined>> = {}): ReplyFrame =>
  replyOf('+OK', present({
    'Unique-ID': 'call-1',
    'Caller-Caller-ID-Number': '380441234567',
    'Caller-Destination-Number': '5551234',
    'Socket-Mode': mode === 'sync' ? 'static' : 'async',
    Control: 'full',
    variable_current_application_data: `127.0.0.1:8084 ${mode === 'sync' ? '' : 'async '}full`,
    ...extra,
  }));

/** The headers that have a value: `undefined` leaves one out. */
const present = (headers: Readonly<Record<string, string | undefined>>): Headers =>
  Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
