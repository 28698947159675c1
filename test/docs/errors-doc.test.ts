import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCatalogue } from '../../src/errors/catalogue.ts';

function documentedCodes(): Map<string, number> {
  const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const codes = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^\|\s*`(ENT_[A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) codes.set(match[1], Number(match[2]));
  }
  return codes;
}

describe('docs/errors.md', () => {
  it('documents exactly the codes of the catalogue, with the same HTTP status', () => {
    const documented = documentedCodes();
    const catalogued = new Map(Object.entries(errorCatalogue).map(([code, entry]) => [code, entry.status]));
    assert.deepEqual(
      [...documented.keys()].sort(),
      [...catalogued.keys()].sort(),
      'run `npx tsx scripts/write-errors-doc.ts` after changing src/errors/catalogue.ts',
    );
    for (const [code, status] of catalogued) assert.equal(documented.get(code), status, `status of ${code}`);
  });

  it('uses only codes of the form ENT_<AREA>_<CONDITION>', () => {
    for (const code of Object.keys(errorCatalogue)) assert.match(code, /^ENT_[A-Z]+_[A-Z0-9_]+$/);
  });
});
