import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseContainerPieces, readContainer, streamBundleElements, type ReadBytes } from './read-container-chunks.ts';
import { parseJson } from './parse-json.ts';
import { readJsonText, readListElement, type DocumentProblem, type ReadObject, type ReadResult } from './read-documents.ts';
import type { JsonValue } from './types.ts';

/** Reads `text` at most `pieceBytes` bytes a read, as a slow pipe or a short read would. */
function piecesOf(text: string | Buffer, pieceBytes: number): ReadBytes {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let offset = 0;
  return (into, at, length) => {
    const count = Math.min(length, pieceBytes, bytes.length - offset);
    bytes.copy(into, at, offset, offset + count);
    offset += count;
    return count;
  };
}

function readInPieces(text: string | Buffer, pieceBytes: number, maxDepth?: number): ReadResult | undefined {
  return readContainer(piecesOf(text, pieceBytes), maxDepth === undefined ? {} : { maxDepth });
}

/**
 * A document streamed in pieces: its elements read one by one as a streaming caller reads them (no
 * bundle version), or undefined when the stream ends saying it is no plain STIX 2.1 bundle.
 */
function streamInPieces(text: string | Buffer, pieceBytes: number, maxDepth?: number): ReadResult | undefined {
  const stream = streamBundleElements(piecesOf(text, pieceBytes), maxDepth === undefined ? {} : { maxDepth });
  const objects: ReadObject[] = [];
  const problems: DocumentProblem[] = [];
  let index = 0;
  for (;;) {
    const next = stream.next();
    if (next.done === true) return next.value ? { objects, problems } : undefined;
    for (const element of next.value as JsonValue[]) {
      const read = readListElement(element, { index }, undefined, 'bundle');
      index += 1;
      if ('object' in read) objects.push(read);
      else problems.push(read);
    }
  }
}

const PIECES = [1, 2, 3, 7, 64, 4096, 1 << 20];

const indicator = {
  type: 'indicator',
  spec_version: '2.1',
  id: 'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
  created: '2020-01-01T00:00:00.000Z',
  modified: '2020-01-01T00:00:00.000Z',
  pattern: "[file:name = 'a\"b{c}[d]\\\\e']",
  pattern_type: 'stix',
  valid_from: '2020-01-01T00:00:00Z',
  description: 'Zürich — 東京 — 🛰 {not a brace} [nor a bracket] \\"quoted\\" \\\\',
  external_references: [{ source_name: 'x', url: 'https://example.org/{a}' }, { source_name: 'y', external_id: 'T1' }],
};
const sco = { type: 'ipv4-addr', id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd', value: '198.51.100.3' };
const stix20 = { type: 'malware', id: 'malware--1', created: '2020-01-01T00:00:00.000Z', modified: '2020-01-01T00:00:00.000Z', labels: ['x'], name: 'n' };

/**
 * 600 copies of a small bundle, each with 1 to 3 random byte edits (replaced, deleted or inserted
 * structural characters), and a random piece size to read it in; repeatable from `seed`.
 */
function* damagedDocuments(seed: number): Generator<{ trial: number; text: Buffer; pieces: number }> {
  const base = Buffer.from(JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [indicator, sco, { ...sco, x: [1, { y: '}' }] }] }, null, 1), 'utf8');
  const damage = Buffer.from('{}[]",:\\ \n0a');
  let state = seed;
  const random = (below: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % below;
  };
  for (let trial = 0; trial < 600; trial += 1) {
    let text = Buffer.from(base);
    for (let edit = 0, edits = 1 + random(3); edit < edits; edit += 1) {
      const at = random(text.length);
      const byte = damage[random(damage.length)] as number;
      const kind = random(3);
      if (kind === 0) text[at] = byte;
      else if (kind === 1) text = Buffer.concat([text.subarray(0, at), text.subarray(at + 1)]);
      else text = Buffer.concat([text.subarray(0, at), Buffer.from([byte]), text.subarray(at)]);
    }
    yield { trial, text, pieces: 1 + random(40) };
  }
}

/** Documents the reader must read exactly as readJsonText does. */
const readable: Record<string, string> = {
  'a compact bundle': JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [indicator, sco] }),
  'a pretty-printed bundle': JSON.stringify({ type: 'bundle', id: 'bundle--1', objects: [indicator, sco, indicator] }, null, 4),
  'members after objects': JSON.stringify({ objects: [indicator], id: 'bundle--1', type: 'bundle' }),
  'an empty objects array': '{"type":"bundle","id":"bundle--1","objects":[ ]}',
  'a STIX 2.0 bundle': JSON.stringify({ type: 'bundle', id: 'bundle--1', spec_version: '2.0', objects: [stix20, sco] }),
  'a TAXII envelope': JSON.stringify({ more: false, objects: [sco, stix20] }),
  'an envelope with a foreign member': JSON.stringify({ objects: [sco], name: 'x' }),
  'a bundle with an unknown spec_version': JSON.stringify({ type: 'bundle', spec_version: '1.2', objects: [sco] }),
  'a member name written with escapes': '{"type":"bundle","obj\\u0065cts":[' + JSON.stringify(sco) + ']}',
  'other arrays and objects at the top': JSON.stringify({ type: 'bundle', x_list: [[1], { objects: [2] }], x_map: { objects: [3] }, objects: [sco] }),
  'an earlier objects member that the array replaces': '{"type":"bundle","objects":1,"objects":[' + JSON.stringify(sco) + ']}',
  'objects with problems of their own': JSON.stringify({ type: 'bundle', objects: [{ id: 'x--1' }, { type: 'bundle' }, { ...sco, spec_version: '2.2' }, sco] }),
  'a byte-order mark and surrounding whitespace': '\uFEFF \n' + JSON.stringify({ type: 'bundle', objects: [sco] }) + '\r\n\t ',
  'a string ending in an escaped backslash': JSON.stringify({ type: 'bundle', objects: [{ ...sco, x_path: 'C:\\\\', x_q: '\\"' }] }),
  // Long strings are searched for their closing quote natively: runs of backslashes before a quote,
  // and braces and brackets, well past a string's first bytes.
  'long strings whose quotes follow runs of backslashes': JSON.stringify({
    type: 'bundle',
    objects: [1, 2, 3, 4, 5].map((run) => ({ ...sco, x_long: `${'a'.repeat(17 + run)}${'\\'.repeat(run)}"{[${'b'.repeat(40)}${'\\'.repeat(run)}`, x_next: `}]"${'c'.repeat(70)}\\` })),
  }),
};

/** Documents the reader must leave to the whole-text path (undefined), so that its messages stay readJsonText's. */
const leftToText: Record<string, string> = {
  'a truncated bundle': JSON.stringify({ type: 'bundle', objects: [indicator, sco] }).slice(0, -20),
  'a trailing comma': '{"type":"bundle","objects":[' + JSON.stringify(sco) + ',]}',
  'a missing comma': '{"type":"bundle","objects":[' + JSON.stringify(sco) + JSON.stringify(sco) + ']}',
  'a leading comma': '{"type":"bundle","objects":[,' + JSON.stringify(sco) + ']}',
  'a string between elements': '{"type":"bundle","objects":[' + JSON.stringify(sco) + ', "x", ' + JSON.stringify(sco) + ']}',
  'a scalar element': '{"type":"bundle","objects":[1]}',
  'an array element': '{"type":"bundle","objects":[[]]}',
  'text after the document': JSON.stringify({ type: 'bundle', objects: [sco] }) + ' {}',
  'a later objects member': '{"type":"bundle","objects":[' + JSON.stringify(sco) + '],"objects":[]}',
  'a later scalar objects member': '{"type":"bundle","objects":[' + JSON.stringify(sco) + '],"objects":"x"}',
  'a single object': JSON.stringify(indicator),
  'a single object with an objects array': JSON.stringify({ ...indicator, objects: [sco] }),
  'an array at the top level': JSON.stringify([{ type: 'bundle', objects: [sco] }]),
  'an unsafe number in an object': '{"type":"bundle","objects":[{"type":"x-y","id":"x-y--1","n":12345678901234567890}]}',
  'an unsafe number in the skeleton': '{"type":"bundle","x_n":1e999,"objects":[]}',
  'a malformed object': '{"type":"bundle","objects":[{"type":"x-y","id":tru}]}',
  'an unterminated string': '{"type":"bundle","objects":[{"type":"x-y","id":"x-y--1}]}',
  'UTF-16 text': '\uFEFF{"type":"bundle","objects":[]}',
};

describe('readContainer: a bundle or envelope read in pieces, exactly as readJsonText reads it whole', () => {
  for (const [name, text] of Object.entries(readable)) {
    it(`reads ${name}, in pieces of any size`, () => {
      const whole = readJsonText(text);
      for (const pieces of PIECES) {
        assert.deepEqual(readInPieces(text, pieces), whole, `${name}, pieces of ${pieces} bytes`);
      }
    });
  }

  for (const [name, text] of Object.entries(leftToText)) {
    it(`leaves ${name} to the whole-text reader`, () => {
      const bytes = name === 'UTF-16 text' ? Buffer.from(text, 'utf16le') : Buffer.from(text, 'utf8');
      for (const pieces of PIECES) assert.equal(readInPieces(bytes, pieces), undefined, `${name}, pieces of ${pieces} bytes`);
    });
  }

  it('applies the depth limit as readJsonText does: objects sit two levels down', () => {
    const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const document = (depth: number): string => `{"type":"bundle","objects":[{"type":"x-y","id":"x-y--1","v":${nested(depth)}}]}`;
    // The object is level 3; its member `v` holds `depth` more levels.
    assert.equal(readJsonText(document(8), { maxDepth: 11 }).problems.length, 0);
    assert.deepEqual(readInPieces(document(8), 5, 11), readJsonText(document(8), { maxDepth: 11 }));
    assert.equal(readJsonText(document(9), { maxDepth: 11 }).problems[0]?.code, 'ENT_INPUT_TOO_DEEP');
    assert.equal(readInPieces(document(9), 5, 11), undefined);
  });

  it('reads an object far larger than its window, split anywhere', () => {
    const large = { ...sco, x_blob: 'ab"c\\'.repeat(100_000), x_list: Array.from({ length: 5000 }, (_, index) => ({ index, text: '{[' })) };
    const text = JSON.stringify({ type: 'bundle', objects: [sco, large, sco] });
    const whole = readJsonText(text);
    for (const pieces of [997, 65_536, 1 << 22]) assert.deepEqual(readInPieces(text, pieces), whole);
  });

  it('never reads a damaged document differently from readJsonText (random byte damage)', () => {
    let readThisWay = 0;
    for (const { trial, text, pieces } of damagedDocuments(20_261_124)) {
      const read = readInPieces(text, pieces);
      if (read === undefined) continue;
      readThisWay += 1;
      assert.deepEqual(read, readJsonText(text.toString('utf8')), `trial ${trial}: ${text.toString('utf8')}`);
    }
    // Some damage lands inside strings and leaves valid JSON: the comparison is not vacuous.
    assert.ok(readThisWay > 30, `only ${readThisWay} damaged documents were still read`);
  });

  it('steps aside, without throwing, when a million strings sit between two brackets', () => {
    const text = `{"type":"bundle","objects":[{"type":"x-y","id":"x-y--1","v":[${'"a",'.repeat(1_000_000)}"a"]}]}`;
    const read = readInPieces(text, 1 << 20);
    if (read !== undefined) assert.deepEqual(read, readJsonText(text));
  });
});

describe('streamBundleElements: a STIX 2.1 bundle element by element, read as readJsonText reads it whole', () => {
  const streamed = new Set(['a compact bundle', 'a pretty-printed bundle', 'members after objects', 'an empty objects array', 'a member name written with escapes',
    'other arrays and objects at the top', 'an earlier objects member that the array replaces', 'objects with problems of their own',
    'a byte-order mark and surrounding whitespace', 'a string ending in an escaped backslash', 'long strings whose quotes follow runs of backslashes']);
  for (const [name, text] of Object.entries(readable)) {
    const expected = streamed.has(name) ? 'streams' : 'ends refusing';
    it(`${expected} ${name}, in pieces of any size`, () => {
      for (const pieces of PIECES) {
        const read = streamInPieces(text, pieces);
        if (streamed.has(name)) assert.deepEqual(read, readJsonText(text), `${name}, pieces of ${pieces} bytes`);
        else assert.equal(read, undefined, `${name}, pieces of ${pieces} bytes`);
      }
    });
  }

  for (const [name, text] of Object.entries(leftToText)) {
    it(`ends refusing ${name}`, () => {
      const bytes = name === 'UTF-16 text' ? Buffer.from(text, 'utf16le') : Buffer.from(text, 'utf8');
      for (const pieces of PIECES) assert.equal(streamInPieces(bytes, pieces), undefined, `${name}, pieces of ${pieces} bytes`);
    });
  }

  it('refuses a bundle that declares STIX 2.0 after its objects: its objects were read as 2.1', () => {
    const text = JSON.stringify({ type: 'bundle', objects: [sco, stix20], spec_version: '2.0' });
    assert.equal(streamInPieces(text, 7), undefined);
  });

  it('hands over elements before the end, and refuses at the very end a document whose last bytes are damaged', () => {
    const text = JSON.stringify({ type: 'bundle', objects: Array.from({ length: 2000 }, () => sco) });
    const stream = streamBundleElements(piecesOf(text.slice(0, -1) + ',', 4096));
    let before = 0;
    for (let next = stream.next(); ; next = stream.next()) {
      if (next.done === true) {
        assert.equal(next.value, false);
        break;
      }
      before += (next.value as JsonValue[]).length;
    }
    assert.equal(before, 2000);
  });

  it('never streams a damaged document differently from readJsonText (random byte damage)', () => {
    let streamedWhole = 0;
    for (const { trial, text, pieces } of damagedDocuments(20_261_125)) {
      const read = streamInPieces(text, pieces);
      if (read === undefined) continue;
      streamedWhole += 1;
      assert.deepEqual(read, readJsonText(text.toString('utf8')), `trial ${trial}: ${text.toString('utf8')}`);
    }
    assert.ok(streamedWhole > 30, `only ${streamedWhole} damaged documents were still streamed`);
  });
});

/** A body split into pieces of `pieceBytes` bytes, as an HTTP body arrives. */
function split(text: string | Buffer, pieceBytes: number): Buffer[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += pieceBytes) pieces.push(bytes.subarray(at, at + pieceBytes));
  return pieces;
}

/** What the TAXII client made of a whole body before: strict UTF-8, then parseJson. */
function parsedWhole(text: string | Buffer): JsonValue | undefined {
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
  } catch {
    return undefined;
  }
  const parsed = parseJson(decoded);
  return parsed.ok ? parsed.value : undefined;
}

describe('parseContainerPieces: a body that arrived in pieces, parsed to the value its whole text gives', () => {
  it('parses a TAXII envelope and a bundle, in pieces of any size, to the value of the whole text', () => {
    const envelope = JSON.stringify({ more: true, next: 'abc', objects: [indicator, sco, indicator] });
    for (const text of [envelope, readable['a compact bundle'] as string, readable['a pretty-printed bundle'] as string]) {
      for (const pieces of PIECES) assert.deepEqual(parseContainerPieces(split(text, pieces)), parsedWhole(text));
    }
    assert.deepEqual(parseContainerPieces([]), undefined, 'an empty body is left to the whole-text path');
  });

  it('gives the same value as the whole text, or leaves the document to it, for every document the reader meets', () => {
    for (const [name, text] of Object.entries({ ...readable, ...leftToText })) {
      for (const pieces of PIECES) {
        const value = parseContainerPieces(split(text, pieces));
        if (value !== undefined) assert.deepEqual(value, parsedWhole(text), `${name}, pieces of ${pieces}`);
      }
    }
    for (const { trial, text, pieces } of damagedDocuments(20_261_125)) {
      const value = parseContainerPieces(split(text, pieces));
      if (value !== undefined) assert.deepEqual(value, parsedWhole(text), `trial ${trial}: ${text.toString('utf8')}`);
    }
  });

  it('reads a character whose bytes arrive in two pieces', () => {
    const text = JSON.stringify({ objects: [{ ...sco, x_name: '🛰 東京' }] });
    const at = Buffer.from(text, 'utf8').indexOf(Buffer.from('🛰', 'utf8')) + 2;
    const bytes = Buffer.from(text, 'utf8');
    assert.deepEqual(parseContainerPieces([bytes.subarray(0, at), bytes.subarray(at)]), JSON.parse(text));
  });

  it('leaves a body with bytes that are not UTF-8 to the whole-text path, wherever they stand', () => {
    const invalid = Buffer.from([0xc3, 0x28]);
    const element = Buffer.concat([Buffer.from('{"objects":[{"type":"x-y","id":"x-y--1","v":"'), invalid, Buffer.from('"}]}')]);
    const skeleton = Buffer.concat([Buffer.from('{"next":"'), invalid, Buffer.from('","objects":[' + JSON.stringify(sco) + ']}')]);
    const separator = Buffer.concat([Buffer.from('{"objects":[' + JSON.stringify(sco)), Buffer.from([0xa0]), Buffer.from(',' + JSON.stringify(sco) + ']}')]);
    const lone = Buffer.concat([Buffer.from('{"objects":[{"type":"x-y","id":"x-y--1","v":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}]}')]);
    for (const body of [element, skeleton, separator, lone]) {
      for (const pieces of [1, 7, 4096]) assert.equal(parseContainerPieces(split(body, pieces)), undefined, body.toString('latin1'));
      assert.equal(parsedWhole(body), undefined, 'the whole-text path refuses it too');
    }
  });
});
