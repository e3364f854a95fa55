import { expect } from 'chai';
import { pipe } from 'fp-ts/lib/function.js';
describe('toolchain', () => { it('runs ts specs', () => { expect(pipe(1, (n) => n + 1)).to.equal(2); }); });
