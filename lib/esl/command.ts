import * as E from 'fp-ts/lib/Either.js';

/**
 * Commands the router writes to FreeSWITCH. A command is one header block; a newline inside any value
 * would start a new header (or a new command), so values that could carry one are refused here, at the
 * last point before the wire, whatever validated them earlier.
 */
export type EslCommand =
  | { readonly _tag: 'Plain'; readonly line: string }
  | {
      readonly _tag: 'Execute';
      readonly app: string;
      readonly arg: string | undefined;
      readonly eventUuid: string | undefined;
    };

export type UnsafeCommand = { readonly _tag: 'UnsafeCommand'; readonly value: string };

const FRAME_BREAK = /[\r\n\0]/;

export const plain = (line: string): EslCommand => ({ _tag: 'Plain', line });

/** An API command, run by the socket's listener as it reads it and answered with `api/response`. */
export const api = (command: string): EslCommand => plain(`api ${command}`);

export const execute = (app: string, arg?: string, eventUuid?: string): EslCommand => ({
  _tag: 'Execute',
  app,
  arg,
  eventUuid,
});

const unsafeValue = (command: EslCommand): string | undefined => {
  const values = command._tag === 'Plain' ? [command.line] : [command.app, command.arg ?? '', command.eventUuid ?? ''];
  return values.find((value) => FRAME_BREAK.test(value));
};

/**
 * FreeSWITCH reads a command's header block one byte per recv() and yields the CPU after each
 * (mod_event_socket.c, read_packet), but its body in one recv(): each header byte costs it about
 * 4 µs of CPU and the caller 2 µs of post-dial delay (scripts/bench/README.md). An argument longer
 * than the headers that announce a body therefore travels as the body, which `sendmsg` takes for the
 * argument when `execute-app-arg` is absent and the body is text/plain (switch_ivr.c,
 * switch_ivr_parse_event).
 */
const BODY_FORM_EXTRA_BYTES = 'content-type: text/plain\ncontent-length: 00\n'.length - 'execute-app-arg: \n'.length;

const argument = (arg: string | undefined): string => {
  if (arg === undefined) return '\n';
  const bytes = Buffer.byteLength(arg);
  return bytes > BODY_FORM_EXTRA_BYTES ? `content-type: text/plain\ncontent-length: ${bytes}\n\n${arg}` : `execute-app-arg: ${arg}\n\n`;
};

const serialize = (command: EslCommand): string =>
  command._tag === 'Plain'
    ? `${command.line}\n\n`
    : 'sendmsg\ncall-command: execute\n' +
      `execute-app-name: ${command.app}\n` +
      (command.eventUuid === undefined ? '' : `Event-UUID: ${command.eventUuid}\n`) +
      argument(command.arg);

/** Serializes commands that are written together, in one write. */
export const serializeAll = (commands: readonly EslCommand[]): E.Either<UnsafeCommand, string> => {
  let out = '';
  for (const command of commands) {
    const bad = unsafeValue(command);
    if (bad !== undefined) return E.left({ _tag: 'UnsafeCommand', value: bad });
    out += serialize(command);
  }
  return E.right(out);
};
