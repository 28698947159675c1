import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { scoId } from './ids.ts';
import { readJsonText } from './read-documents.ts';
import type { JsonObject, JsonValue } from './types.ts';
import { incompleteObservations, TLP_MARKING_DEFINITIONS, upgradeStix20Object, upgradeStix20Objects } from './upgrade-stix20.ts';
import type { UpgradedObject, UpgradeProblem } from './upgrade-stix20.ts';

function counter(): () => string {
  let n = 0;
  return () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
}

function upgraded(input: JsonObject): UpgradedObject {
  const result = upgradeStix20Object(input, { randomUuid: counter() });
  assert.ok(result.ok, result.ok ? '' : result.error.map((p) => p.message).join('; '));
  return result.value;
}

function problems(input: JsonObject): UpgradeProblem[] {
  const result = upgradeStix20Object(input, { randomUuid: counter() });
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.error;
}

const common = { created: '2017-01-01T00:00:00.000Z', modified: '2017-01-01T00:00:00.000Z' };

describe('upgradeStix20Object: domain objects', () => {
  it('adds spec_version 2.1 after type and leaves created_by_ref, markings and custom properties alone', () => {
    const identity = { type: 'identity', id: 'identity--a0c22599-9e58-4da4-96ac-7051603fa951', ...common, name: 'CERT', identity_class: 'organization' };
    const rel = { type: 'relationship', id: 'relationship--2ec8b484-7f14-59a2-a7bc-419393273e6b', ...common, relationship_type: 'uses', source_ref: 'x--1', target_ref: 'y--2', created_by_ref: identity.id, object_marking_refs: ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da'], x_acme: 1 };
    assert.deepEqual(Object.keys(upgraded(identity).object).slice(0, 3), ['type', 'spec_version', 'id']);
    assert.deepEqual(upgraded(identity).object, { ...identity, spec_version: '2.1' });
    assert.deepEqual(upgraded(rel).object, { ...rel, spec_version: '2.1' });
  });

  it('malware: labels from the vocabulary become malware_types, is_family defaults to true, and ATT&CK\'s ["malware"] is dropped', () => {
    const attack = { type: 'malware', id: 'malware--1', ...common, name: 'X-Agent', labels: ['malware'] };
    assert.deepEqual(upgraded(attack).object, { type: 'malware', spec_version: '2.1', id: 'malware--1', ...common, name: 'X-Agent', is_family: true });
    const mixed = { type: 'malware', id: 'malware--2', ...common, name: 'Y', labels: ['ransomware', 'worm', 'tlp-ish'], is_family: false };
    const out = upgraded(mixed).object;
    assert.deepEqual([out['malware_types'], out['labels'], out['is_family']], [['ransomware', 'worm'], ['tlp-ish'], false]);
  });

  it('indicator: labels become indicator_types, pattern_type "stix" and pattern_version "2.0" are added', () => {
    const indicator = { type: 'indicator', id: 'indicator--1', ...common, labels: ['malicious-activity', 'misp:type="domain"'], pattern: "[file:created = t'2016-01-01T00:00:00Z']", valid_from: '2017-01-01T00:00:00Z' };
    const out = upgraded(indicator).object;
    assert.deepEqual(out['indicator_types'], ['malicious-activity']);
    assert.deepEqual(out['labels'], ['misp:type="domain"']);
    assert.equal(out['pattern_type'], 'stix');
    assert.equal(out['pattern_version'], '2.0');
  });

  it('threat-actor, tool and report: labels become *_types', () => {
    assert.deepEqual(upgraded({ type: 'threat-actor', id: 'threat-actor--1', ...common, name: 'A', labels: ['nation-state'] }).object['threat_actor_types'], ['nation-state']);
    assert.deepEqual(upgraded({ type: 'tool', id: 'tool--1', ...common, name: 'T', labels: ['remote-access', 'tool'] }).object['tool_types'], ['remote-access']);
    const report = upgraded({ type: 'report', id: 'report--1', ...common, name: 'R', published: '2017-01-01T00:00:00Z', object_refs: ['x--1'], labels: ['threat-report'] }).object;
    assert.deepEqual([report['report_types'], report['labels']], [['threat-report'], undefined]);
  });

  it('moves a marked label\'s marking with it: the label that stays in labels, or the value moved to *_types', () => {
    const red = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';
    const amber = 'marking-definition--f88d31f6-486f-44da-b317-01333bde0b82';
    const indicator = { type: 'indicator', id: 'indicator--1', ...common, pattern: "[ipv4-addr:value = '10.0.0.1']", valid_from: '2017-01-01T00:00:00Z' };
    const victim = upgraded({ ...indicator, labels: ['malicious-activity', 'victim-ministry', 'apt-generic'], granular_markings: [{ marking_ref: red, selectors: ['labels.[1]'] }] }).object;
    assert.deepEqual(victim['labels'], ['victim-ministry', 'apt-generic']);
    assert.deepEqual(victim['granular_markings'], [{ marking_ref: red, selectors: ['labels.[0]'] }]);
    const moved = upgraded({ ...indicator, labels: ['victim-ministry', 'malicious-activity'], granular_markings: [{ marking_ref: red, selectors: ['labels.[1]', 'name'] }, { marking_ref: amber, selectors: ['labels.[0]'] }] }).object;
    assert.deepEqual(moved['granular_markings'], [{ marking_ref: red, selectors: ['indicator_types.[0]', 'name'] }, { marking_ref: amber, selectors: ['labels.[0]'] }]);
    const all = upgraded({ ...indicator, labels: ['victim-ministry', 'malicious-activity', 'benign'], granular_markings: [{ lang: 'fr', selectors: ['labels'] }] }).object;
    assert.deepEqual(all['granular_markings'], [{ lang: 'fr', selectors: ['labels', 'indicator_types.[0]', 'indicator_types.[1]'] }]);
    const onlyTypes = upgraded({ ...indicator, labels: ['malicious-activity'], granular_markings: [{ marking_ref: red, selectors: ['labels', 'labels.[0]'] }] }).object;
    assert.deepEqual(onlyTypes['granular_markings'], [{ marking_ref: red, selectors: ['indicator_types.[0]'] }]);
  });

  it('drops the marking of a label it drops (the object\'s own type), and refuses a labels selector that selects nothing', () => {
    const red = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';
    const attack = upgraded({ type: 'malware', id: 'malware--1', ...common, name: 'X', labels: ['malware', 'worm'], granular_markings: [{ marking_ref: red, selectors: ['labels.[0]'] }, { marking_ref: red, selectors: ['labels.[1]'] }] }).object;
    assert.deepEqual(attack['granular_markings'], [{ marking_ref: red, selectors: ['malware_types.[0]'] }]);
    const beyond = problems({ type: 'malware', id: 'malware--2', ...common, name: 'X', labels: ['worm'], granular_markings: [{ marking_ref: red, selectors: ['labels.[3]'] }] });
    assert.equal(beyond[0]?.path, '$.granular_markings[0].selectors[0]');
    assert.match(beyond[0]?.message ?? '', /labels\.\[3\]/);
  });

  it('is idempotent: a 2.1 object comes back unchanged', () => {
    const once = upgraded({ type: 'malware', id: 'malware--1', ...common, name: 'X', labels: ['bot'] }).object;
    assert.deepEqual(upgraded(once).object, once);
  });

  it('never modifies its input', () => {
    const input = { type: 'malware', id: 'malware--1', ...common, name: 'X', labels: ['bot'] };
    const copy = structuredClone(input);
    upgraded(input);
    assert.deepEqual(input, copy);
  });
});

describe('upgradeStix20Object: TLP marking definitions', () => {
  it('replaces a 2.0 TLP definition by the spec\'s 2.1 object with the same fixed id', () => {
    const green20 = { type: 'marking-definition', id: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', created: '2017-01-20T00:00:00.000Z', definition_type: 'tlp', definition: { tlp: 'green' } };
    assert.deepEqual(upgraded(green20).object, {
      type: 'marking-definition', spec_version: '2.1', id: 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da',
      created: '2017-01-20T00:00:00.000Z', definition_type: 'tlp', name: 'TLP:GREEN', definition: { tlp: 'green' },
    });
    assert.equal(Object.keys(TLP_MARKING_DEFINITIONS).length, 4);
  });

  it('refuses a TLP definition with another id or a colour that contradicts its id', () => {
    const rogue = problems({ type: 'marking-definition', id: 'marking-definition--11111111-1111-4111-8111-111111111111', created: '2017-01-20T00:00:00.000Z', definition_type: 'tlp', definition: { tlp: 'red' } });
    assert.match(rogue[0]?.message ?? '', /four with fixed ids/);
    const liar = problems({ type: 'marking-definition', id: 'marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', created: '2017-01-20T00:00:00.000Z', definition_type: 'tlp', definition: { tlp: 'red' } });
    assert.match(liar[0]?.message ?? '', /is TLP:WHITE, but the definition says "red"/);
  });

  it('keeps statement markings, adding spec_version', () => {
    const statement = { type: 'marking-definition', id: 'marking-definition--2', created: '2017-01-20T00:00:00.000Z', definition_type: 'statement', definition: { statement: 'Copyright ACME' } };
    assert.deepEqual(upgraded(statement).object, { ...statement, spec_version: '2.1' });
  });
});

describe('upgradeStix20Object: observed-data', () => {
  const observed = {
    type: 'observed-data', id: 'observed-data--1', ...common, first_observed: '2017-01-01T00:00:00Z', last_observed: '2017-01-01T00:00:00Z', number_observed: 1,
    object_marking_refs: ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82'],
    objects: {
      '0': { type: 'file', name: 'oui', hashes: { MD5: '8764605c6f388c89096b534d33565802' }, parent_directory_ref: '1', created: '2016-01-01T00:00:00Z' },
      '1': { type: 'directory', path: '/tmp' },
      '2': { type: 'process', pid: 4, binary_ref: '0' },
    },
  };

  it('takes embedded observables out as 2.1 SCOs with deterministic ids, in object_refs, without objects', () => {
    const { object, observables } = upgraded(observed);
    const directoryId = scoId('directory', { path: '/tmp' });
    const fileId = scoId('file', { name: 'oui', hashes: { MD5: '8764605c6f388c89096b534d33565802' }, parent_directory_ref: directoryId.ok ? directoryId.value : '' });
    assert.ok(directoryId.ok && fileId.ok);
    assert.equal(object['objects'], undefined);
    assert.deepEqual(object['object_refs'], [fileId.value, directoryId.value, 'process--00000000-0000-4000-8000-000000000001']);
    assert.deepEqual(observables[0], {
      type: 'file', spec_version: '2.1', id: fileId.value, name: 'oui', hashes: { MD5: '8764605c6f388c89096b534d33565802' },
      parent_directory_ref: directoryId.value, ctime: '2016-01-01T00:00:00Z', object_marking_refs: ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82'],
    });
    assert.equal(observables[2]?.['image_ref'], fileId.value, 'process.binary_ref is image_ref in 2.1 and points to the new file id');
  });

  it('takes an observable whose type is named after a property of every object as a custom one, never throwing', () => {
    const odd = upgradeStix20Object({ ...observed, objects: { '0': { type: 'constructor', value: 'a' } } }, { randomUuid: counter() });
    assert.ok(odd.ok, JSON.stringify(odd));
  });

  it('reads its tables for names of their own only: a property, type or extension named after a property of every object is carried over as any unknown one', () => {
    const odd = upgraded({ ...observed, objects: { '0': { type: 'constructor', name: 'n', length: 3 }, '1': { type: 'file', name: 'a.exe', constructor: 'x', extensions: { constructor: { name: 'y' }, toString: { valueOf: 'z' } } } } });
    const [constructed, file] = odd.observables;
    assert.equal(constructed?.['name'], 'n');
    assert.equal(constructed?.['length'], 3);
    assert.equal(constructed?.['Object'], undefined);
    assert.equal(file?.['constructor'], 'x');
    assert.deepEqual(file?.['extensions'], { constructor: { name: 'y' }, toString: { valueOf: 'z' } });
    const tlp = problems({ type: 'marking-definition', id: 'constructor', created: '2017-01-01T00:00:00.000Z', definition_type: 'tlp', definition: { tlp: 'white' } });
    assert.match(tlp[0]?.message ?? '', /must be one of the four with fixed ids/);
  });

  it('gives the same SCO the same id wherever it was observed, and lists it once, merging the descriptions', () => {
    const twice = upgradeStix20Objects([observed, { ...observed, id: 'observed-data--2' }], { randomUuid: counter() });
    assert.deepEqual(twice.problems, []);
    assert.equal(twice.objects.filter((o) => o['type'] === 'file').length, 1);
    const domainAlone = { ...observed, id: 'observed-data--3', object_marking_refs: [], objects: { '0': { type: 'domain-name', value: 'circl.lu' } } };
    const domainResolved = { ...observed, id: 'observed-data--4', objects: { '0': { type: 'domain-name', value: 'circl.lu', resolves_to_refs: ['1'] }, '1': { type: 'ipv4-addr', value: '149.13.33.14' } } };
    const merged = upgradeStix20Objects([domainAlone, domainResolved], { randomUuid: counter() });
    const domains = merged.objects.filter((o) => o['type'] === 'domain-name');
    assert.equal(domains.length, 1);
    assert.equal((domains[0]?.['resolves_to_refs'] as string[]).length, 1);
    assert.deepEqual(domains[0]?.['object_marking_refs'], ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82'], 'the stricter copy\'s marking stays');
    const conflict = upgradeStix20Objects([
      { ...observed, objects: { '0': { type: 'file', name: 'a', hashes: { MD5: 'x' }, size: 1 } } },
      { ...observed, id: 'observed-data--5', objects: { '0': { type: 'file', name: 'a', hashes: { MD5: 'x' }, size: 2 } } },
    ], { randomUuid: counter() });
    assert.match(conflict.problems[0]?.message ?? '', /observed twice with different size/);
  });

  it('moves granular markings that select into objects onto the SCOs', () => {
    const red = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';
    const { object, observables } = upgraded({ ...observed, granular_markings: [{ marking_ref: red, selectors: ['objects.2.pid', 'objects.2', 'number_observed'] }] });
    assert.deepEqual(object['granular_markings'], [{ marking_ref: red, selectors: ['number_observed'] }]);
    assert.deepEqual(observables[2]?.['granular_markings'], [{ marking_ref: red, selectors: ['pid'] }]);
    assert.deepEqual(observables[2]?.['object_marking_refs'], [red], 'TLP:RED replaces the weaker TLP:AMBER inherited from the observed-data');
    assert.equal(observables[0]?.['granular_markings'], undefined);
  });

  it('renames a selector with the property 2.1 renamed: file created → ctime, process binary_ref → image_ref', () => {
    const red = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';
    const { observables } = upgraded({ ...observed, granular_markings: [{ marking_ref: red, selectors: ['objects.0.created', 'objects.2.binary_ref'] }] });
    assert.deepEqual(observables[0]?.['granular_markings'], [{ marking_ref: red, selectors: ['ctime'] }]);
    assert.deepEqual(observables[2]?.['granular_markings'], [{ marking_ref: red, selectors: ['image_ref'] }]);
  });

  it('a marking on an ID Contributing Property marks the whole SCO and every reference to it, since its id is derived from the value', () => {
    const red = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';
    const green = 'marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da';
    const ip = upgraded({ ...observed, object_marking_refs: [green], granular_markings: [{ marking_ref: red, selectors: ['objects.0.value'] }], objects: { '0': { type: 'ipv4-addr', value: '10.20.30.44' } } });
    assert.deepEqual(ip.observables[0]?.['object_marking_refs'], [red], 'the strictest TLP only');
    assert.equal(ip.observables[0]?.['granular_markings'], undefined);
    assert.deepEqual(ip.object['granular_markings'], [{ marking_ref: red, selectors: ['object_refs.[0]'] }], 'the observed-data\'s reference reveals the id too');
    // The directory's path is marked: its id, the file's id (derived from parent_directory_ref) and the
    // process's image_ref (the file's id) are as sensitive as the path.
    const path = upgraded({ ...observed, granular_markings: [{ marking_ref: red, selectors: ['objects.1.path'] }] });
    assert.deepEqual(path.observables.map((sco) => sco['object_marking_refs']), [[red], [red], ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82']]);
    assert.deepEqual(path.observables[2]?.['granular_markings'], [{ marking_ref: red, selectors: ['image_ref'] }]);
    assert.deepEqual(path.object['granular_markings'], [{ marking_ref: red, selectors: ['object_refs.[0]', 'object_refs.[1]'] }]);
    // A reference in a list is marked element by element.
    const resolved = upgraded({ ...observed, granular_markings: [{ marking_ref: red, selectors: ['objects.1.value'] }], objects: { '0': { type: 'domain-name', value: 'example.org', resolves_to_refs: ['1'] }, '1': { type: 'ipv4-addr', value: '10.0.0.1' } } });
    assert.deepEqual(resolved.observables[0]?.['granular_markings'], [{ marking_ref: red, selectors: ['resolves_to_refs.[0]'] }]);
    // A whole marked observable with a deterministic id: references to it are marked as well.
    const whole = upgraded({ ...observed, granular_markings: [{ marking_ref: red, selectors: ['objects.1'] }], objects: { '0': { type: 'domain-name', value: 'example.org', resolves_to_refs: ['1'] }, '1': { type: 'ipv4-addr', value: '10.0.0.1' } } });
    assert.deepEqual(whole.observables[0]?.['granular_markings'], [{ marking_ref: red, selectors: ['resolves_to_refs.[0]'] }]);
    assert.deepEqual(whole.object['granular_markings'], [{ marking_ref: red, selectors: ['object_refs.[1]'] }]);
  });

  it('carries an embedded observable\'s own markings onto its SCO', () => {
    const red = 'marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed';
    const { observables } = upgraded({ ...observed, objects: { '0': { type: 'file', name: 'a', created: '2016-01-01T00:00:00Z', object_marking_refs: [red], granular_markings: [{ marking_ref: red, selectors: ['created'] }] } } });
    assert.deepEqual(observables[0]?.['object_marking_refs'], [red]);
    assert.deepEqual(observables[0]?.['granular_markings'], [{ marking_ref: red, selectors: ['ctime'] }]);
  });

  it('refuses the whole observed-data when one of its observables conflicts with the same one observed elsewhere', () => {
    const conflict = upgradeStix20Objects([
      { ...observed, objects: { '0': { type: 'file', name: 'a', hashes: { MD5: 'x' }, size: 1 } } },
      { ...observed, id: 'observed-data--5', objects: { '0': { type: 'domain-name', value: 'example.org' }, '1': { type: 'file', name: 'a', hashes: { MD5: 'x' }, size: 2 } } },
    ], { randomUuid: counter() });
    assert.equal(conflict.problems[0]?.objectId, 'observed-data--5');
    assert.deepEqual(conflict.objects.map((o) => o['type']), ['observed-data', 'file'], 'neither observed-data--5 nor its domain-name is kept');
  });

  it('refuses what 2.1 cannot say, naming the property', () => {
    const bad = problems({ ...observed, objects: { '0': { type: 'process', name: 'evil.exe', arguments: ['-x'] }, '1': { type: 'file', name: 'a', is_encrypted: true } } });
    assert.deepEqual(bad.map((p) => p.path), ['$.objects.0.name', '$.objects.0.arguments', '$.objects.1.is_encrypted']);
    const dangling = problems({ ...observed, objects: { '0': { type: 'file', name: 'a', parent_directory_ref: '9' } } });
    assert.match(dangling[0]?.message ?? '', /refers to "9", which is not a key/);
  });
});

describe('incompleteObservations', () => {
  it('refuses an observed-data with a refused SCO, every version of a refused observed-data, and the SCOs only refused ones observed', () => {
    const observations = [
      { id: 'observed-data--1', scoIds: ['file--a', 'domain-name--b', 'domain-name--shared'] },
      { id: 'observed-data--2', scoIds: ['domain-name--shared'] },
      { id: 'observed-data--3', scoIds: ['domain-name--c'] },
      { id: 'observed-data--3', scoIds: ['domain-name--d'] },
    ];
    const also = incompleteObservations(observations, new Set(['file--a', 'observed-data--3']));
    assert.deepEqual([...also.keys()].sort(), ['domain-name--b', 'domain-name--c', 'domain-name--d', 'observed-data--1', 'observed-data--3']);
    assert.match(also.get('observed-data--1') ?? '', /its observable file--a was refused/);
  });
});

describe('upgrade of MISP\'s STIX 2.0 output compared with MISP\'s own STIX 2.1 output', () => {
  const fixtures = new URL('../../test/fixtures/misp-stix/', import.meta.url);
  const load = (name: string): JsonObject[] => {
    const read = readJsonText(readFileSync(new URL(name, fixtures), 'utf8'));
    assert.deepEqual(read.problems, []);
    return read.objects.map((o) => o.object);
  };

  /** SCOs of an observed-data as content, references written as "#n" (n = place in object_refs). */
  function observablesOf(observedData: JsonObject, byId: Map<string, JsonObject>): JsonValue[] {
    const refs = observedData['object_refs'] as string[];
    const local = (value: JsonValue): JsonValue => {
      if (typeof value === 'string' && refs.includes(value)) return `#${refs.indexOf(value)}`;
      if (Array.isArray(value)) return value.map(local);
      if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, local(v)]));
      return value;
    };
    return refs.map((id) => {
      const { id: _id, ...rest } = byId.get(id) ?? {};
      return local(rest);
    });
  }

  for (const name of ['test_event1', 'test_event2', 'test_objects_collection', 'test_attributes_collection']) {
    it(`${name}: same objects, except where MISP's converter chose differently`, () => {
      const ours = upgradeStix20Objects(load(`${name}_stix20.json`), { randomUuid: counter() });
      assert.deepEqual(ours.problems, []);
      const golden = load(`${name}_stix21.json`);
      const oursById = new Map(ours.objects.map((o) => [o['id'] as string, o]));
      const goldenById = new Map(golden.map((o) => [o['id'] as string, o]));
      const differences: string[] = [];
      for (const theirs of golden) {
        const type = theirs['type'];
        if (type === 'grouping' || (typeof type === 'string' && scoId(type, {}).ok === false && !['identity', 'indicator', 'relationship', 'observed-data'].includes(type))) continue;
        let mine = oursById.get(theirs['id'] as string);
        if (type === 'relationship') {
          // MISP derives relationship ids (UUIDv5) differently for its 2.0 and 2.1 output; the upgrade keeps ids.
          mine = ours.objects.find((o) => o['source_ref'] === theirs['source_ref'] && o['target_ref'] === theirs['target_ref']);
          assert.ok(mine);
          assert.deepEqual({ ...mine, id: theirs['id'] }, theirs);
          continue;
        }
        assert.ok(mine, `${String(theirs['id'])} is missing from the upgrade`);
        if (type === 'indicator') {
          // MISP writes its 2.1 patterns fresh; an upgraded 2.0 pattern honestly says it is a 2.0 pattern.
          assert.deepEqual({ ...mine, pattern_version: '2.1' }, theirs);
        } else if (type === 'observed-data') {
          const { object_refs: _a, ...mineRest } = mine;
          const { object_refs: _b, ...theirsRest } = theirs;
          assert.deepEqual(mineRest, theirsRest);
          const mineScos = observablesOf(mine, oursById);
          const theirScos = observablesOf(theirs, goldenById);
          mineScos.forEach((sco, i) => {
            try {
              assert.deepEqual(sco, theirScos[i]);
            } catch {
              differences.push(`${JSON.stringify(sco)} ≠ ${JSON.stringify(theirScos[i])}`);
            }
          });
        } else {
          assert.deepEqual(mine, theirs);
        }
      }
      // MISP knows what its custom x_misp_* properties mean and maps them to 2.1 properties; an upgrade
      // cannot: x_misp_message_id is not message_id, x_misp_password is not credential, to a STIX reader.
      // MISP gives each attribute's SCO the attribute's UUID; deterministic 2.1 ids make the two circl.lu
      // domain-names of test_attributes_collection one object, carrying the resolution seen by the other.
      const expected: Record<string, string[]> = {
        test_attributes_collection: [
          '{"type":"domain-name","spec_version":"2.1","value":"circl.lu","resolves_to_refs":["ipv4-addr--74bacc73-b29e-50f3-9b10-6ed6fc0f18b4"]} ≠ {"type":"domain-name","spec_version":"2.1","value":"circl.lu"}',
        ],
        test_objects_collection: [
          '{"type":"email-message","spec_version":"2.1","is_multipart":false,"from_ref":"#1","to_refs":["#2"],"subject":"Email test subject","x_misp_message_id":"<1234567890@foo.bar>"} ≠ {"type":"email-message","spec_version":"2.1","is_multipart":false,"from_ref":"#1","to_refs":["#2"],"message_id":"<1234567890@foo.bar>","subject":"Email test subject"}',
          '{"type":"user-account","spec_version":"2.1","user_id":"misp","x_misp_format":"clear-text","x_misp_notification":"victim-notified","x_misp_origin":"malware-analysis","x_misp_password":"Password1234","x_misp_text":"MISP default credentials","x_misp_type":"password"} ≠ {"type":"user-account","spec_version":"2.1","user_id":"misp","credential":"Password1234","x_misp_format":"clear-text","x_misp_notification":"victim-notified","x_misp_origin":"malware-analysis","x_misp_text":"MISP default credentials","x_misp_type":"password"}',
        ],
      };
      assert.deepEqual(differences, expected[name] ?? []);
    });
  }
});
