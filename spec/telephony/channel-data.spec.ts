import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import type { Frame } from '../../lib/esl/frame.ts';
import { socketModeOf } from '../../lib/esl/hand-back.ts';
import { callFromConnectReply } from '../../lib/telephony/channel-data.ts';
import { framesOf } from './capture-frames.ts';

const connectReply = (capture: string): Extract<Frame, { _tag: 'CommandReply' }> => {
  const first = framesOf(capture)[0];
  if (first?._tag !== 'CommandReply') throw new Error(`${capture}: first frame is ${first?._tag}`);
  return first;
};

describe('telephony/channel-data', () => {
  it('turns a real connect reply into the pipeline Call, url-decoded, keeping the variables the config uses', () => {
    const used = new Set(['caller_id_number', 'destination_number', 'current_application_data', 'crm_scheme']);
    const call = callFromConnectReply(connectReply('a-bridge-user'), used);
    expect(E.isRight(call)).to.equal(true);
    if (E.isLeft(call)) return;
    expect(call.right).to.deep.include({
      uuid: 'c5c10dda-bc49-44dc-b73f-2c9aed07218d',
      callId: '1-29102@127.0.0.1',
      caller: '380441234567',
      called: '5551234',
    });
    expect(call.right.variables).to.deep.equal({
      caller_id_number: '380441234567',
      destination_number: '5551234',
      current_application_data: '127.0.0.1:8084 async full',
    });
  });

  it('reads the socket mode: async, or static for the sync mode', () => {
    expect(socketModeOf(connectReply('a-bridge-user'))).to.equal('async');
    expect(socketModeOf(connectReply('sync-a-bridge-user'))).to.equal('sync');
  });

  it('refuses a reply without the channel uuid', () => {
    const reply = connectReply('a-bridge-user');
    const withoutUuid = { ...reply, header: (name: string) => (name === 'Unique-ID' ? undefined : reply.header(name)) };
    expect(E.isLeft(callFromConnectReply(withoutUuid, new Set()))).to.equal(true);
  });
});
