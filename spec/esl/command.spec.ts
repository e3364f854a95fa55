import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { execute, plain, serializeAll } from '../../lib/esl/command.ts';

const wire = (...commands: Parameters<typeof serializeAll>[0]): string => {
  const out = serializeAll(commands);
  if (E.isLeft(out)) throw new Error(`refused: ${out.left.value}`);
  return out.right;
};

describe('esl/command', () => {
  it('sends an argument longer than the body headers as a text/plain body, which FreeSWITCH reads in one recv', () => {
    const arg = '{originate_timeout=30}sofia/gateway/pstn/380441112233';
    expect(wire(execute('bridge', arg, 'b1'))).to.equal(
      `sendmsg\ncall-command: execute\nexecute-app-name: bridge\nEvent-UUID: b1\ncontent-type: text/plain\ncontent-length: ${arg.length}\n\n${arg}`,
    );
  });

  it('counts the body in bytes, not UTF-16 units', () => {
    const arg = 'user/оператор-один@example.com';
    expect(wire(execute('bridge', arg))).to.contain(`content-length: ${Buffer.byteLength(arg)}\n\n${arg}`);
  });

  it('keeps a short argument in execute-app-arg, where it costs fewer header bytes than a body would', () => {
    expect(wire(execute('hangup', 'NORMAL_CLEARING'))).to.equal('sendmsg\ncall-command: execute\nexecute-app-name: hangup\nexecute-app-arg: NORMAL_CLEARING\n\n');
    expect(wire(execute('ring_ready'), plain('linger'))).to.equal('sendmsg\ncall-command: execute\nexecute-app-name: ring_ready\n\nlinger\n\n');
  });

  it('refuses a line break or NUL in any value, body or not', () => {
    for (const bad of ['user/1000\n\nexecute-app-name: hangup', 'x'.repeat(60) + '\r', 'a\0b']) {
      expect(E.isLeft(serializeAll([execute('bridge', bad)])), JSON.stringify(bad)).to.equal(true);
    }
  });
});
