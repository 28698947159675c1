import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createAhoCorasick, LiteralSets, SubstringIndex } from './aho-corasick.ts';
import { createRandom } from '../../bench/generate-indicators.ts';

function occurrences(literals: readonly string[], text: string): string[] {
  const found: string[] = [];
  createAhoCorasick(literals).search(text, (index) => found.push(literals[index] as string));
  return found.sort();
}

function naive(literals: readonly string[], text: string): string[] {
  const found: string[] = [];
  for (const literal of literals) for (let at = text.indexOf(literal); at >= 0; at = text.indexOf(literal, at + 1)) found.push(literal);
  return found.sort();
}

describe('Aho–Corasick search', () => {
  it('finds every occurrence of every literal, overlapping ones and literals inside others included', () => {
    const literals = ['he', 'she', 'his', 'hers'];
    assert.deepEqual(occurrences(literals, 'ushers'), ['he', 'hers', 'she']);
    assert.deepEqual(occurrences(['aa'], 'aaaa'), ['aa', 'aa', 'aa']);
  });

  it('finds literals of any UTF-16 units, beside ASCII ones that share a state', () => {
    assert.deepEqual(occurrences(['café', 'é.', 'caf.', '\u{1F600}x'], 'un café.\u{1F600}x caf.'), ['caf.', 'café', 'é.', '\u{1F600}x']);
  });

  it('finds nothing in text that holds none of the literals, and nothing with no literals', () => {
    assert.deepEqual(occurrences(['evil', 'bad'], 'good.example.com'), []);
    assert.deepEqual(occurrences([], 'anything'), []);
  });

  it('agrees with a naive scan on random literals and texts over a small alphabet', () => {
    const random = createRandom(7);
    const word = (max: number): string => Array.from({ length: 1 + Math.floor(random() * max) }, () => 'abc.'[Math.floor(random() * 4)]).join('');
    for (let round = 0; round < 200; round++) {
      const literals = [...new Set(Array.from({ length: 1 + Math.floor(random() * 8) }, () => word(4)))];
      const text = word(40);
      assert.deepEqual(occurrences(literals, text), naive(literals, text), `${JSON.stringify(literals)} in ${text}`);
      const start = Math.floor(random() * text.length);
      const end = start + Math.floor(random() * (text.length - start + 1));
      const inRange = naive(literals, text.slice(start, end)).length > 0;
      assert.equal(createAhoCorasick(literals).occursIn(text, start, end), inRange, `${JSON.stringify(literals)} in ${text.slice(start, end)}`);
    }
  });

  it('agrees with a naive scan when the automaton is deeper and wider than its dense rows (thousands of states, non-ASCII units)', () => {
    const random = createRandom(11);
    const alphabet = 'abcd.é';
    const word = (min: number, max: number): string =>
      Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const literals = [...new Set(Array.from({ length: 1500 }, () => word(3, 9)))];
    const automaton = createAhoCorasick(literals);
    assert.ok(automaton.states > 2048, `${automaton.states} states: the test must reach states without a dense row`);
    for (let round = 0; round < 50; round++) {
      const text = word(50, 200);
      const found: string[] = [];
      automaton.search(text, (index) => found.push(literals[index] as string));
      assert.deepEqual(found.sort(), naive(literals, text), text);
    }
  });

  it('occursIn looks only inside the range it is given', () => {
    const automaton = createAhoCorasick(['evil']);
    assert.equal(automaton.occursIn('an-evil-host', 0, 12), true);
    assert.equal(automaton.occursIn('an-evil-host', 4, 12), false, 'the literal starts before the range');
    assert.equal(automaton.occursIn('an-evil-host', 0, 6), false, 'the literal ends after the range');
  });

  it('SubstringIndex: literals added or withdrawn later are taken into account at the next search', () => {
    const index = new SubstringIndex<string>();
    index.add('evil', 'first');
    const hits = (text: string): string[] => {
      const found: string[] = [];
      index.search(text, (posting) => found.push(posting));
      return found;
    };
    assert.deepEqual(hits('an-evil-host'), ['first']);
    index.add('host', 'second');
    assert.deepEqual(hits('an-evil-host').sort(), ['first', 'second']);
    index.remove('evil', 'first');
    assert.deepEqual(hits('an-evil-host'), ['second']);
    assert.equal(index.size, 1);
  });
});

describe('literal sets (the raw-line screen of substring anchors)', () => {
  it('a set occurs when every one of its literals occurs in the range, anywhere and in any order', () => {
    const sets = new LiteralSets();
    sets.add(['"zz', '.com"']);
    assert.equal(sets.occursIn('"zz123456.com"', 0, 14), true);
    assert.equal(sets.occursIn('"update-1a2b.com"', 0, 17), false, 'only the longest literal occurs');
    assert.equal(sets.occursIn('"zz1.net"', 0, 9), false);
    assert.equal(sets.occursIn('x"zz1.com"', 1, 9), false, 'the closing quote is outside the range');
  });

  it('sets sharing their longest literal are each asked for the rest', () => {
    const sets = new LiteralSets();
    sets.add(['evil', 'ab']);
    sets.add(['evil', 'cd']);
    assert.equal(sets.occursIn('cd-evil', 0, 7), true);
    assert.equal(sets.occursIn('evil-xy', 0, 7), false);
    sets.add(['evil']);
    assert.equal(sets.occursIn('evil-xy', 0, 7), true, 'a set of one literal needs nothing more');
  });

  it('a set added twice stays until removed twice', () => {
    const sets = new LiteralSets();
    sets.add(['evil']);
    sets.add(['evil']);
    sets.remove(['evil']);
    assert.equal(sets.occursIn('evil', 0, 4), true);
    sets.remove(['evil']);
    assert.equal(sets.occursIn('evil', 0, 4), false);
    assert.equal(sets.size, 0);
  });

  it('agrees with a naive check on random sets and ranges over a small alphabet', () => {
    const random = createRandom(11);
    const word = (max: number): string => Array.from({ length: 1 + Math.floor(random() * max) }, () => 'ab."'[Math.floor(random() * 4)]).join('');
    for (let round = 0; round < 300; round++) {
      const chosen = Array.from({ length: 1 + Math.floor(random() * 4) }, () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => word(3)));
      const sets = new LiteralSets();
      for (const set of chosen) sets.add(set);
      const text = word(30);
      const start = Math.floor(random() * text.length);
      const end = start + Math.floor(random() * (text.length - start + 1));
      const expected = chosen.some((set) => set.every((literal) => text.slice(start, end).includes(literal)));
      assert.equal(sets.occursIn(text, start, end), expected, `${JSON.stringify(chosen)} in ${text.slice(start, end)}`);
    }
  });
});
