import { expect } from 'chai';
import { buildRequest, callParams } from '../../lib/crm/build-request.ts';
import { VERSION } from '../../lib/crm/version.ts';
import { call, schemeOf } from './scheme-fixture.ts';

const defaults = {
  call_id: call.callId,
  uuid: call.uuid,
  caller: call.caller,
  called: call.called,
  scheme: 'default',
};

describe('crm/build-request', () => {
  it('sends the default parameters first, then the scheme params with channel data filled in', () => {
    const scheme = schemeOf({ destinationField: 'n', params: { who: '${caller_id_number}/${nope}', caller: 'x-${caller_id_name}' } });
    expect([...callParams(scheme, call)]).to.deep.equal([
      ['call_id', call.callId],
      ['uuid', call.uuid],
      ['caller', 'x-Ольга'],
      ['called', call.called],
      ['scheme', 'default'],
      ['who', '380441234567/'],
    ]);
  });

  it('keeps a param named __proto__ as an ordinary parameter', () => {
    const scheme = schemeOf({ destinationField: 'n', params: JSON.parse('{"__proto__":"p"}') as Record<string, string> });
    const body = JSON.parse(buildRequest(scheme, call, 1).body ?? '') as Record<string, unknown>;
    expect(Object.hasOwn(body, '__proto__') && body['__proto__']).to.equal('p');
  });

  it('json: POSTs the parameters as a JSON object, whatever method was configured', () => {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
      const r = buildRequest(schemeOf({ method, destinationField: 'n', params: { step_forward: 'webhookNumber%3A120' } }), call, 1);
      expect(r.method).to.equal('POST');
      expect(r.url).to.equal('http://127.0.0.1:1/route');
      expect(r.headers['content-type']).to.equal('application/json');
      expect(JSON.parse(r.body ?? '')).to.deep.equal({ ...defaults, step_forward: 'webhookNumber%3A120' });
      expect(r.rpcId).to.equal(undefined);
    }
  });

  it('jsonrpc: POSTs a JSON-RPC 2.0 request with the given id', () => {
    const r = buildRequest(schemeOf({ submit: 'jsonrpc', import: 'jsonrpc', rpcMethod: 'call.route', method: 'GET' }), call, 42);
    expect(r.method).to.equal('POST');
    expect(r.rpcId).to.equal(42);
    expect(JSON.parse(r.body ?? '')).to.deep.equal({ jsonrpc: '2.0', id: 42, method: 'call.route', params: defaults });
  });

  for (const method of ['GET', 'DELETE'] as const) {
    it(`http ${method}: puts the parameters in the query string, as configured (no decoding)`, () => {
      const r = buildRequest(schemeOf({ submit: 'http', method, destinationField: 'n', params: { step_forward: 'webhookNumber%3A120' } }), call, 1);
      expect(r.method).to.equal(method);
      expect(r.body).to.equal(undefined);
      const url = new URL(r.url);
      expect(Object.fromEntries(url.searchParams)).to.deep.equal({ ...defaults, step_forward: 'webhookNumber%3A120' });
    });
  }

  it('http GET: appends to a query string already in the URL', () => {
    const r = buildRequest(schemeOf({ submit: 'http', method: 'GET', url: 'http://crm.example.com/r?key=1', import: 'http' }), call, 1);
    expect(r.url.startsWith('http://crm.example.com/r?key=1&call_id=')).to.equal(true);
  });

  for (const method of ['POST', 'PUT'] as const) {
    it(`http ${method}: sends the parameters as a form body`, () => {
      const r = buildRequest(schemeOf({ submit: 'http', method, import: 'http' }), call, 1);
      expect(r.method).to.equal(method);
      expect(r.url).to.equal('http://127.0.0.1:1/route');
      expect(r.headers['content-type']).to.equal('application/x-www-form-urlencoded');
      expect(Object.fromEntries(new URLSearchParams(r.body))).to.deep.equal(defaults);
    });
  }

  it('http with paramsIn headers: sends the parameters as headers, percent-encoding what HTTP cannot carry', () => {
    const r = buildRequest(schemeOf({ submit: 'http', method: 'GET', import: 'http', paramsIn: 'headers', params: { 'X-Name': '${caller_id_name}' } }), call, 1);
    expect(r.url).to.equal('http://127.0.0.1:1/route');
    expect(r.body).to.equal(undefined);
    expect(r.headers).to.include({ call_id: call.callId, uuid: call.uuid, 'x-name': encodeURIComponent('Ольга') });
  });

  it('identifies itself and adds the configured headers', () => {
    const r = buildRequest(schemeOf({ destinationField: 'n', headers: { Authorization: 'Bearer s3cret' } }), call, 1);
    expect(r.headers).to.include({ 'user-agent': `crm-router/${VERSION}`, authorization: 'Bearer s3cret', accept: 'application/json' });
    expect(VERSION).to.match(/^\d+\.\d+\.\d+/);
  });
});
