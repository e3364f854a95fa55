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

const serialize = (command: EslCommand): string =>
  command._tag === 'Plain'
    ? `${command.line}\n\n`
    : 'sendmsg\ncall-command: execute\n' +
      `execute-app-name: ${command.app}\n` +
      (command.arg === undefined ? '' : `execute-app-arg: ${command.arg}\n`) +
      (command.eventUuid === undefined ? '' : `Event-UUID: ${command.eventUuid}\n`) +
      '\n';

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
