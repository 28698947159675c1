// Regenerates docs/errors.md from the error catalogue. Run: npx tsx scripts/write-errors-doc.ts
// Hand-written guidance in the "What to do" column is kept when the code still exists.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { errorCatalogue } from '../src/errors/catalogue.ts';

const docPath = new URL('../docs/errors.md', import.meta.url);
const guidance = new Map<string, string>();
if (existsSync(docPath)) {
  for (const line of readFileSync(docPath, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = cells[1]?.replace(/`/g, '');
    if (code?.startsWith('ENT_') && cells[4] !== undefined && cells[4] !== '') guidance.set(code, cells[4]);
  }
}

const rows = Object.entries(errorCatalogue).map(
  ([code, entry]) => `| \`${code}\` | ${entry.status} | ${entry.title} | ${guidance.get(code) ?? ''} |`,
);
writeFileSync(
  docPath,
  `# Error codes

Every error Entente reports carries one of these stable codes. Over HTTP the code is the TAXII 2.1
error resource's \`error_code\`, the status its \`http_status\`; on the command line it is printed as
\`entente: CODE: message\` (exit status 1, or 2 for usage errors). Codes are never renamed or reused.
A test (test/docs/errors-doc.test.ts) fails when this page and \`src/errors/catalogue.ts\` differ.

| Code | HTTP status | Meaning | What to do |
|---|---|---|---|
${rows.join('\n')}
`,
);
