// `npm run eval -- NAME [NAME…]` runs the named evaluations (all when none is named). Each prints
// one JSON line per figure: {"bench":"eval.NAME","metric":…,"value":…,"unit":…}.
const evaluations: Record<string, () => Promise<void>> = {
  tagging: async () => (await import('./tagging-eval.ts')).runTaggingEval(),
  extraction: async () => (await import('./extraction-eval.ts')).runExtractionEval(),
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = requested.filter((name) => !(name in evaluations));
if (unknown.length > 0) {
  process.stderr.write(`unknown evaluation ${unknown.join(', ')}; known: ${Object.keys(evaluations).join(', ')}\n`);
  process.exit(2);
}
for (const name of requested.length > 0 ? requested : Object.keys(evaluations)) {
  process.stderr.write(`# eval ${name}\n`);
  await evaluations[name]?.();
}
