import { expect } from 'chai';
import * as E from 'fp-ts/lib/Either.js';
import { decodeConfig } from '../../lib/config/load.ts';
import { usedVariables } from '../../lib/config/used-variables.ts';

describe('config/used-variables', () => {
  it('is the selection variable and every template variable of every scheme', () => {
    const decoded = decodeConfig({
      selection: { variable: 'route_by' },
      schemes: [
        { name: 'default', url: 'http://127.0.0.1/r', gateway: 'pstn', destinationField: 'n', params: { a: '${caller_id_name}-${sip_h_X-Line}', b: 'plain' } },
        { name: 'other', url: 'http://127.0.0.1/r', gateway: 'pstn', destinationField: 'n', params: { c: '${caller_id_name}' } },
      ],
    });
    if (E.isLeft(decoded)) throw new Error('bad config');
    expect([...usedVariables(decoded.right.config)].sort()).to.deep.equal(['caller_id_name', 'route_by', 'sip_h_X-Line']);
  });
});
