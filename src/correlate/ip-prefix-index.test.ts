import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IpPrefixIndex } from './ip-prefix-index.ts';

function lookup(index: IpPrefixIndex<string>, value: string): string[] {
  const found: string[] = [];
  index.lookup(value, (posting) => found.push(posting));
  return found.sort();
}

describe('IP prefix index (ISSUBSET)', () => {
  const index = new IpPrefixIndex<string>();
  index.add('10.0.0.0/8', 'ten');
  index.add('10.1.0.0/16', 'ten-one');
  index.add('198.51.100.7', 'host');
  index.add('0.0.0.0/0', 'everything-v4');
  index.add('2001:db8::/32', 'doc-v6');

  it('returns every block that contains an address, from /0 to /32', () => {
    assert.deepEqual(lookup(index, '10.1.2.3'), ['everything-v4', 'ten', 'ten-one']);
    assert.deepEqual(lookup(index, '10.2.0.1'), ['everything-v4', 'ten']);
    assert.deepEqual(lookup(index, '198.51.100.7'), ['everything-v4', 'host']);
    assert.deepEqual(lookup(index, '198.51.100.8'), ['everything-v4']);
  });

  it('an observed block matches only blocks that contain all of it', () => {
    assert.deepEqual(lookup(index, '10.1.0.0/16'), ['everything-v4', 'ten', 'ten-one']);
    assert.deepEqual(lookup(index, '10.0.0.0/7'), ['everything-v4']);
  });

  it('keeps the families apart and ignores text that is no address', () => {
    assert.deepEqual(lookup(index, '2001:db8:1::5'), ['doc-v6']);
    assert.deepEqual(lookup(index, '2001:db9::1'), []);
    assert.deepEqual(lookup(index, 'example.com'), []);
    assert.deepEqual(lookup(index, '010.1.2.3'), []);
  });

  it('refuses blocks that are not blocks, and forgets removed ones', () => {
    const small = new IpPrefixIndex<string>();
    assert.equal(small.add('10.0.0.0/33', 'x'), false);
    small.add('192.0.2.0/24', 'doc');
    small.remove('192.0.2.0/24', 'doc');
    assert.deepEqual(lookup(small, '192.0.2.1'), []);
    assert.equal(small.size, 0);
  });
});
