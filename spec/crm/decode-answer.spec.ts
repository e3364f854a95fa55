import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeAnswer } from '../../lib/crm/decode-answer.ts';
import { schemeOf } from './scheme-fixture.ts';

const body = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('crm/decode-answer (pure)', () => {
  it('http: the trimmed body is the destination', () => {
    expect(decodeAnswer(schemeOf({ import: 'http' }), body(' 380 12 345 6789 \n'))).to.deep.equal(E.right({ _tag: 'PhoneNumber', number: '380123456789' }));
  });

  it('json: reads a dotted path', () => {
    const s = schemeOf({ import: 'json', destinationField: 'data.agent.number' });
    expect(decodeAnswer(s, body('{"data":{"agent":{"number":"agent7@pbx.example.com"}}}'))).to.deep.equal(
      E.right({ _tag: 'SipLogin', login: 'agent7', domain: 'pbx.example.com' }),
    );
  });

  it('json: names the missing or mistyped part of a path', () => {
    const s = schemeOf({ import: 'json', destinationField: 'data.agent.number' });
    expect(decodeAnswer(s, body('{"data":{}}'))).to.deep.equal(E.left({ _tag: 'MissingField', field: 'data.agent' }));
    expect(decodeAnswer(s, body('{"data":{"agent":"x"}}'))).to.deep.equal(E.left({ _tag: 'WrongFieldType', field: 'data.agent', got: 'string' }));
    expect(decodeAnswer(s, body('{"data":{"agent":{"number":380}}}'))).to.deep.equal(E.left({ _tag: 'WrongFieldType', field: 'data.agent.number', got: 'number' }));
  });

  it('json: never reads inherited properties such as constructor or toString', () => {
    for (const field of ['constructor', 'constructor.name', 'toString', '__proto__.constructor']) {
      const r = decodeAnswer(schemeOf({ import: 'json', destinationField: field }), body('{}'));
      expect(E.isLeft(r) && r.left._tag, field).to.equal('MissingField');
    }
  });

  it('jsonrpc: a string result, or the field of an object result', () => {
    const plain = schemeOf({ import: 'jsonrpc', rpcMethod: 'r' });
    expect(decodeAnswer(plain, body('{"jsonrpc":"2.0","id":3,"result":"1000@pbx"}'), 3)).to.deep.equal(E.right({ _tag: 'SipLogin', login: '1000', domain: 'pbx' }));
    const field = schemeOf({ import: 'jsonrpc', rpcMethod: 'r', destinationField: 'n' });
    expect(decodeAnswer(field, body('{"jsonrpc":"2.0","id":3,"result":{"n":"380123456789"}}'), 3)).to.deep.equal(E.right({ _tag: 'PhoneNumber', number: '380123456789' }));
    expect(decodeAnswer(field, body('{"jsonrpc":"2.0","id":3,"result":{}}'), 3)).to.deep.equal(E.left({ _tag: 'MissingField', field: 'result.n' }));
  });

  it('jsonrpc: an error member is a JsonRpcError, with a log-safe message', () => {
    const s = schemeOf({ import: 'jsonrpc', rpcMethod: 'r' });
    expect(decodeAnswer(s, body('{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no\\nmethod"}}'))).to.deep.equal(
      E.left({ _tag: 'JsonRpcError', code: -32601, message: 'no\\nmethod' }),
    );
    expect(decodeAnswer(s, body('{"jsonrpc":"2.0","id":1,"error":"x"}'))).to.deep.equal(E.left({ _tag: 'JsonRpcError', code: null, message: '\\"x\\"' }));
  });

  it('jsonrpc: accepts "error": null beside a result', () => {
    const s = schemeOf({ import: 'jsonrpc', rpcMethod: 'r' });
    expect(E.isRight(decodeAnswer(s, body('{"jsonrpc":"2.0","id":1,"result":"1000@pbx","error":null}'), 1))).to.equal(true);
  });

  it('jsonrpc: checks the id only when one was sent', () => {
    const s = schemeOf({ import: 'jsonrpc', rpcMethod: 'r' });
    const answer = body('{"jsonrpc":"2.0","id":9,"result":"1000@pbx"}');
    expect(E.isRight(decodeAnswer(s, answer))).to.equal(true);
    expect(decodeAnswer(s, answer, 8)).to.deep.equal(E.left({ _tag: 'UnparsableAnswer', reason: 'JSON-RPC id 9 does not match 8' }));
  });
});
