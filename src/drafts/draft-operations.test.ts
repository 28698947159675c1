import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tagReportText } from './draft-operations.ts';

describe('tagging the text of a report for its draft', () => {
  it('tags the whole text of a report of ordinary length, without a warning', () => {
    const warnings: string[] = [];
    const tags = tagReportText('The actor used spearphishing attachments (T1566.001) and PowerShell (T1059.001).', warnings);
    assert.deepEqual(tags?.techniques.map((t) => t.id).sort(), ['T1059', 'T1059.001', 'T1566', 'T1566.001']);
    assert.deepEqual(warnings, []);
  });

  it('tags only the first characters of a longer text, and says so: tagging costs about a second per million characters of the thread that drafts', () => {
    // On the server that thread was the event loop (POST /api/drafts; a worker thread now): 32 Mi
    // characters, the most a document may yield, held it for about 30 s.
    const head = 'The actor used spearphishing attachments (T1566.001).\n';
    const text = `${head}${'Nothing to see in this paragraph. '.repeat(40)}\nLater it ran PowerShell (T1059.001).\n`;
    const warnings: string[] = [];
    const tags = tagReportText(text, warnings, 1000);
    assert.deepEqual(tags?.techniques.map((t) => t.id).sort(), ['T1566', 'T1566.001'], 'PowerShell, named after the first 1000 characters, is not tagged');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', new RegExp(`^ATT&CK tagging read the first 1000 of the ${text.length} characters of the text`));
  });
});
