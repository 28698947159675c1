// Builds src/extract/joining-data.ts: the few Unicode properties IDNA's CONTEXTJ rules (RFC 5892
// appendix A.1, A.2) read to allow U+200C/U+200D in a label, which JavaScript regexes do not expose.
// Run: node scripts/build-joining-data.mjs [path/to/idna/idnadata.py]
// Sources:
// - Joining_Type (L, D, R, T) from the `idna` Python package's idnadata.py (BSD-3-Clause, Kim
//   Davies and contributors; its notice is copied into the generated file), the table its own
//   valid_contextj() reads. Found with `python3 -c "import idna.idnadata as d; print(d.__file__)"`.
//   The joining letters are grouped by their script as this Node's regex engine reads it.
// - Canonical_Combining_Class 9 (virama), and the script of each with that script's letters and
//   marks, from this Node's own Unicode data. For the class: canonical reordering
//   (String.prototype.normalize) moves a mark of class 9 after a class-8 mark (U+3099) that follows
//   it and before a class-10 mark (U+05B0) that precedes it, and no other class does both.
//   invisible.test.ts checks the shipped tables against the same derivations.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const idnadataPath =
  process.argv[2] ?? execFileSync('python3', ['-c', 'import idna.idnadata as d; print(d.__file__)'], { encoding: 'utf8' }).trim();
const source = readFileSync(idnadataPath, 'utf8');
const unicodeVersion = /__version__ = "([^"]+)"/.exec(source)?.[1] ?? 'unknown';
const body = /def joining_types\(\)[^{]*\{([^}]*)\}/.exec(source)?.[1];
if (body === undefined) throw new Error(`${idnadataPath}: no joining_types table`);

const byType = new Map();
for (const m of body.matchAll(/0x([0-9A-Fa-f]+):\s*(\d+)/g)) {
  const type = String.fromCharCode(Number(m[2]));
  if (!byType.has(type)) byType.set(type, []);
  byType.get(type).push(Number.parseInt(m[1], 16));
}

/** Sorted code points → inclusive [from, to] ranges. */
function rangesOf(codes) {
  const sorted = [...new Set(codes)].sort((a, b) => a - b);
  const out = [];
  for (const c of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last[1] === c - 1) last[1] = c;
    else out.push([c, c]);
  }
  return out;
}

const isVirama = (code) => {
  const c = String.fromCodePoint(code);
  if (c.normalize('NFD') !== c) return false;
  // Moved both times: the probes themselves (classes 8 and 10) compare equal to their own copy.
  const after8 = `a${c}\u3099`;
  const before10 = `a\u05b0${c}`;
  return after8.normalize('NFD') === `a\u3099${c}` && after8 !== `a\u3099${c}` && before10.normalize('NFD') === `a${c}\u05b0` && before10 !== `a${c}\u05b0`;
};
const viramas = [];
for (let code = 0; code <= 0x10ffff; code++) {
  if (code >= 0xd800 && code <= 0xdfff) continue;
  if (/\p{M}/u.test(String.fromCodePoint(code)) && isVirama(code)) viramas.push(code);
}

// The script of each virama, and that script's letters and marks: a joiner after a virama is kept
// only between characters of the virama's own script, where it changes how they are drawn (a half
// form, no conjunct). On a Latin letter it changes nothing on screen, and the name with it is
// another host that looks the same. JavaScript cannot name a character's script, only test one, so the candidates are listed:
// the scripts that have a virama, checked to cover every virama found above.
const VIRAMA_SCRIPT_NAMES = [
  'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao',
  'Tibetan', 'Myanmar', 'Tagalog', 'Hanunoo', 'Khmer', 'Tai_Tham', 'Balinese', 'Sundanese', 'Batak', 'Tifinagh', 'Syloti_Nagri',
  'Saurashtra', 'Rejang', 'Javanese', 'Meetei_Mayek', 'Kharoshthi', 'Brahmi', 'Kaithi', 'Chakma', 'Sharada', 'Khojki',
  'Khudawadi', 'Grantha', 'Tulu_Tigalari', 'Newa', 'Tirhuta', 'Siddham', 'Modi', 'Takri', 'Ahom', 'Dogra', 'Dives_Akuru',
  'Nandinagari', 'Zanabazar_Square', 'Soyombo', 'Bhaiksuki', 'Masaram_Gondi', 'Gunjala_Gondi', 'Kawi', 'Gurung_Khema',
];
const known = VIRAMA_SCRIPT_NAMES.filter((name) => {
  try {
    new RegExp(`\\p{sc=${name}}`, 'u');
    return true;
  } catch {
    return false; // a script newer than this Node's Unicode
  }
});
const scriptOf = (code) => known.find((name) => new RegExp(`^\\p{sc=${name}}$`, 'u').test(String.fromCodePoint(code)));
const viramaScripts = new Map();
for (const code of viramas) {
  const script = scriptOf(code);
  if (script === undefined) throw new Error(`virama U+${code.toString(16)}: its script is not one of VIRAMA_SCRIPT_NAMES; add it`);
  if (!viramaScripts.has(script)) viramaScripts.set(script, []);
  viramaScripts.get(script).push(code);
}
const lettersOf = (script) => {
  // Marks by Script_Extensions (a Vedic sign serves several scripts), letters by Script: U+02BC, a
  // modifier letter that looks like an apostrophe, has Devanagari among its extensions.
  const re = new RegExp(`^(?:[\\p{sc=${script}}&&\\p{L}]|[\\p{scx=${script}}&&\\p{M}])$`, 'v');
  const out = [];
  for (let code = 0; code <= 0x10ffff; code++) if ((code < 0xd800 || code > 0xdfff) && re.test(String.fromCodePoint(code))) out.push(code);
  return out;
};

// The joining letters by script: a ZWNJ is kept only between two of one script. Letters of two
// scripts do not join (a shaper takes each script's run apart), so a ZWNJ between them changes
// nothing on screen, yet names another host.
const JOINING_SCRIPT_NAMES = [
  'Arabic', 'Syriac', 'Nko', 'Mandaic', 'Mongolian', 'Phags_Pa', 'Manichaean', 'Psalter_Pahlavi', 'Hanifi_Rohingya', 'Sogdian',
  'Old_Uyghur', 'Chorasmian', 'Adlam', 'Garay', 'Kirat_Rai',
].filter((name) => {
  try {
    new RegExp(`\\p{sc=${name}}`, 'u');
    return true;
  } catch {
    return false;
  }
});
const joiningScripts = new Map();
for (const [side, types] of [['left', ['L', 'D']], ['right', ['R', 'D']]]) {
  for (const code of types.flatMap((t) => byType.get(t) ?? [])) {
    const script = JOINING_SCRIPT_NAMES.find((name) => new RegExp(`^\\p{sc=${name}}$`, 'u').test(String.fromCodePoint(code)));
    if (script === undefined) throw new Error(`joining letter U+${code.toString(16)}: its script is not one of JOINING_SCRIPT_NAMES; add it`);
    if (!joiningScripts.has(script)) joiningScripts.set(script, { left: [], right: [] });
    joiningScripts.get(script)[side].push(code);
  }
}

const hex = (n) => `0x${n.toString(16)}`;
const table = (name, doc, ranges) => `/** ${doc} */\nexport const ${name}: readonly (readonly [number, number])[] = [\n${wrap(ranges.map(([a, b]) => `[${hex(a)}, ${hex(b)}]`))}\n];\n`;
function wrap(parts) {
  const lines = [];
  let line = ' ';
  for (const part of parts) {
    if (line.length + part.length > 110) {
      lines.push(line.trimEnd());
      line = ' ';
    }
    line += ` ${part},`;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

// Wheels built with metadata 2.4 keep the licence under licenses/, older ones at the top.
const distInfo = join(dirname(dirname(idnadataPath)), `idna-${readIdnaVersion()}.dist-info`);
const licencePath = [join(distInfo, 'licenses', 'LICENSE.md'), join(distInfo, 'LICENSE.md')].find((path) => existsSync(path));
if (licencePath === undefined) throw new Error(`${distInfo}: no LICENSE.md; the generated file must carry idna's notice`);
const licence = readFileSync(licencePath, 'utf8');
function readIdnaVersion() {
  return /__version__ = "([^"]+)"/.exec(readFileSync(join(dirname(idnadataPath), 'package_data.py'), 'utf8'))?.[1] ?? '';
}

// Both versions are named: the tables mix the idna package's data with this Node's, and a rebuild
// under another Node (or idna) gives other tables.
const out = `// Generated by scripts/build-joining-data.mjs; do not edit. Unicode ${unicodeVersion} (idna), ${process.versions.unicode} (Node ${process.version}).
// The Unicode properties IDNA's CONTEXTJ rules read (RFC 5892 appendix A.1, A.2), which JavaScript
// regexes do not expose: Joining_Type from the \`idna\` Python package ${readIdnaVersion()} (idnadata.py,
// the table its valid_contextj() reads), under the licence below; the viramas
// (Canonical_Combining_Class 9) from Node's own normalisation data, and their scripts' letters and
// marks from its regex engine's Script_Extensions (invisible.test.ts checks both).
//
${licence.trim().split('\n').map((l) => `// ${l}`.trimEnd()).join('\n')}

${table('VIRAMA_RANGES', 'Canonical_Combining_Class 9 (Virama).', rangesOf(viramas))}
/**
 * Each script with a virama: its viramas, and its letters (Script) and marks (Script_Extensions). A
 * joiner after a virama is kept only between characters of the virama's script (invisible.ts).
 */
export const VIRAMA_SCRIPTS: readonly { readonly script: string; readonly viramas: readonly (readonly [number, number])[]; readonly letters: readonly (readonly [number, number])[] }[] = [
${[...viramaScripts].map(([script, codes]) => `  {\n    script: '${script}',\n    viramas: [${rangesOf(codes).map(([a, b]) => `[${hex(a)}, ${hex(b)}]`).join(', ')}],\n    letters: [\n${wrap(rangesOf(lettersOf(script)).map(([a, b]) => `[${hex(a)}, ${hex(b)}]`)).replace(/^ /gm, '     ')}\n    ],\n  },`).join('\n')}
];
${table('JOINING_LEFT_RANGES', 'Joining_Type L or D: joins the character after it (left-joining, dual-joining).', rangesOf([...(byType.get('L') ?? []), ...(byType.get('D') ?? [])]))}
${table('JOINING_RIGHT_RANGES', 'Joining_Type R or D: joins the character before it (right-joining, dual-joining).', rangesOf([...(byType.get('R') ?? []), ...(byType.get('D') ?? [])]))}
/**
 * The joining letters of each script: left (Joining_Type L or D) and right (R or D). A ZWNJ is kept
 * only between a left and a right letter of one script (invisible.ts).
 */
export const JOINING_SCRIPTS: readonly { readonly script: string; readonly left: readonly (readonly [number, number])[]; readonly right: readonly (readonly [number, number])[] }[] = [
${[...joiningScripts].sort(([, a], [, b]) => Math.min(...a.left, ...a.right) - Math.min(...b.left, ...b.right)).map(([script, { left, right }]) => `  {\n    script: '${script}',\n${[['left', left], ['right', right]].map(([side, codes]) => `    ${side}: [\n${wrap(rangesOf(codes).map(([a, b]) => `[${hex(a)}, ${hex(b)}]`)).replace(/^ /gm, '     ')}\n    ],`).join('\n')}\n  },`).join('\n')}
];
${table('JOINING_TRANSPARENT_RANGES', 'Joining_Type T: transparent (marks), skipped when looking for the joining neighbours.', rangesOf(byType.get('T') ?? []))}`;
writeFileSync(join(root, 'src', 'extract', 'joining-data.ts'), out);
console.log(`joining-data.ts: ${viramas.length} viramas in ${viramaScripts.size} scripts, ${byType.get('T')?.length ?? 0} transparent, Unicode ${unicodeVersion}`);
