import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACK_LOOKUP_FORMAT, findExplicitIds, findNames, fromAttackLookupArtefact } from './attack-lookup.ts';
import type { AttackLookupArtefact } from './attack-lookup.ts';

// A hand-made table: enough rows to specify the rules without the shipped data.
const artefact: AttackLookupArtefact = {
  format: ATTACK_LOOKUP_FORMAT,
  sources: {},
  commonWords: ['explosive', 'net', 'calendar'],
  objects: [
    ['T1059', 'attack-pattern--1', 'Command and Scripting Interpreter', 'technique', [], null],
    ['T1059.001', 'attack-pattern--2', 'PowerShell', 'technique', [], null],
    ['T1086', 'attack-pattern--3', 'PowerShell', 'technique', [], 'T1059.001'],
    ['TA0002', 'x-mitre-tactic--1', 'Execution', 'tactic', [], null],
    ['G0016', 'intrusion-set--1', 'APT29', 'group', ['Cozy Bear', 'NOBELIUM', 'The Dukes'], null],
    ['S0154', 'tool--1', 'Cobalt Strike', 'software', [], null],
    ['S0013', 'malware--1', 'PlugX', 'software', ['Korplug', 'Sogu'], null],
    ['S0569', 'malware--2', 'Explosive', 'software', [], null],
    ['S0039', 'tool--2', 'Net', 'software', ['net.exe'], null],
    ['S0110', 'tool--3', 'at', 'software', [], null],
    ['S0367', 'malware--3', 'Emotet', 'software', ['Geodo'], null],
    ['S0025', 'malware--4', 'CALENDAR', 'software', [], null],
    ['M1036', 'course-of-action--1', 'Account Use Policies', 'mitigation', [], null],
    ['AML.T0051', 'attack-pattern--4', 'LLM Prompt Injection', 'technique', [], null],
    ['AML.T0051.000', 'attack-pattern--5', 'Direct', 'technique', [], null],
    ['AML.TA0005', 'x-mitre-tactic--2', 'Execution', 'tactic', [], null],
  ],
};
const lookup = fromAttackLookupArtefact(artefact);
const ids = (text: string): string[] => findExplicitIds(lookup, text).map((m) => m.object.id);
const names = (text: string): string[] => findNames(lookup, text).map((m) => m.object.id);

test('explicit ATT&CK ids of every kind are linked to their object, with the span of the id', () => {
  const text = 'Execution (TA0002): T1059 and [T1059.001]; G0016 used S0154, mitigated by M1036.';
  assert.deepEqual(ids(text), ['TA0002', 'T1059', 'T1059.001', 'G0016', 'S0154', 'M1036']);
  const m = findExplicitIds(lookup, text)[2];
  assert.equal(text.slice(m?.start, m?.end), 'T1059.001');
});

test('ATLAS ids (techniques, sub-techniques, tactics) are linked', () => {
  assert.deepEqual(ids('AML.T0051 (AML.T0051.000) under AML.TA0005.'), ['AML.T0051', 'AML.T0051.000', 'AML.TA0005']);
});

test('the ATT&CK URL form T1059/001 is the sub-technique; a revoked id links to its replacement', () => {
  assert.deepEqual(ids('https://attack.mitre.org/techniques/T1059/001/'), ['T1059.001']);
  assert.deepEqual(ids('old reports say T1086'), ['T1059.001']);
});

test('ids that are unknown or part of a longer token are not linked', () => {
  assert.deepEqual(ids('T9999, S9999, XT1059, T10590, T1059a, hash_T1059, version 1.T1059, G00161'), []);
});

test('group and software names and aliases are linked, longest first, with their span', () => {
  const text = 'Cozy Bear (APT29, also NOBELIUM) loaded Cobalt Strike and a Korplug sample.';
  assert.deepEqual(names(text), ['G0016', 'G0016', 'G0016', 'S0154', 'S0013']);
  const m = findNames(lookup, text)[3];
  assert.equal(text.slice(m?.start, m?.end), 'Cobalt Strike');
});

test('distinctive names match in any case; plain capitalised names exactly or in capitals', () => {
  assert.deepEqual(names('PLUGX, plugx and apt29'), ['S0013', 'S0013', 'G0016']);
  assert.deepEqual(names('EMOTET and Emotet'), ['S0367', 'S0367']);
  assert.deepEqual(names('emotet in lower case is not linked'), []);
});

test('no false positives on ordinary words: common-word aliases need exact case and a cue word nearby', () => {
  assert.deepEqual(names('The explosive growth of at least one net gain.'), []);
  assert.deepEqual(names('Explosive growth was seen. Net income rose. It is at home.'), []);
  assert.deepEqual(names('The group deployed Explosive on the server.'), ['S0569']);
  assert.deepEqual(names('Explosive malware was found; the Net command listed shares.'), ['S0569', 'S0039']);
  assert.deepEqual(names('Cobalt is a metal; strike a match.'), []);
  assert.deepEqual(names('The Calendar and calendar apps; the CALENDAR backdoor.'), ['S0025']);
});

test('a name glued to a file name, path or address is not a mention', () => {
  assert.deepEqual(names('mde.plugx ran from C:/Emotet and emotet@example.com'), []);
});

test('names are whole words only', () => {
  assert.deepEqual(names('PlugXtra, SuperEmotet and APT290 are not linked'), []);
});
