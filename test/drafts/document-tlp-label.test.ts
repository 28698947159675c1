// The TLP label a report carries in its own text, as publication reads it: the label form only
// (with its colon), TLP 1.0 or 2.0, in any case; the strictest of several.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { documentTlpLabels, strictestTlpLabel } from '../../src/drafts/document-tlp-label.ts';

describe('the TLP label of a document', () => {
  it('reads TLP 2.0 and TLP 1.0 labels in any case, with or without space after the colon', () => {
    const levels = (text: string): string[] => documentTlpLabels(text).map((label) => label.level);
    assert.deepEqual(levels('TLP:RED'), ['red']);
    assert.deepEqual(levels('[TLP: AMBER] Weekly note'), ['amber']);
    assert.deepEqual(levels('tlp:amber+strict'), ['amber+strict']);
    assert.deepEqual(levels('TLP:AMBER + STRICT'), ['amber+strict']);
    assert.deepEqual(levels('Marking: TLP:CLEAR'), ['clear']);
    assert.deepEqual(levels('TLP:WHITE'), ['clear'], "TLP 1.0's WHITE is CLEAR");
    assert.deepEqual(levels('(TLP:Green)'), ['green']);
  });

  it('takes nothing but the label form for a label', () => {
    for (const text of ['TLP red', 'the TLP levels are explained below', 'TLP:REDACTED', 'XTLP:RED', 'TLP:AMBER+X', 'TLP:\nRED', 'TLP:PURPLE']) {
      assert.deepEqual(documentTlpLabels(text), [], text);
    }
  });

  it('names the strictest label, and the line it is on', () => {
    const text = 'Cover: TLP:GREEN\n\nSummary\nAnnex A — TLP:RED\nAnnex B — TLP: RED\n';
    assert.deepEqual(strictestTlpLabel(text), { level: 'red', label: 'TLP:RED', line: 4, offset: text.indexOf('TLP:RED') });
    assert.equal(strictestTlpLabel('No label here.'), undefined);
  });
});
