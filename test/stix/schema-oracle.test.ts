// Compares Entente's STIX 2.1 validator with the official OASIS JSON schemas (compiled with Ajv) as an oracle.
// Agreement rule: whenever the schema rejects a standard object, we reject it too; whenever we reject an object
// the schema accepts, every error we report must be one of the rules a JSON schema cannot express (listed below).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import fc from 'fast-check';
import { validateStixObject, type ValidationReport } from '../../src/stix/validate.ts';
import { categoryOf } from '../../src/stix/validate/object-categories.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const schemaRoot = join(repoRoot, 'test/fixtures/stix2-json-schemas/schemas');
const corpusRoot = join(repoRoot, 'test/fixtures/stix-corpus');
const sharedData = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/**
 * Rules of the STIX 2.1 specification beyond what the OASIS schemas check. When we reject an object the
 * schema accepts, each error code must be one of these.
 */
const BEYOND_SCHEMA = new Set([
  'STIX_MODIFIED_BEFORE_CREATED', // modified >= created
  'STIX_TIME_ORDER', // valid_until > valid_from, last_seen >= first_seen, stop_time > start_time, …
  'STIX_REF_TARGET_TYPE', // ref-type restrictions the schema leaves open (SCO refs, sighting_of_ref not an SCO, …)
  'STIX_REF_INVALID', // SCO *_ref(s) the schema types as plain strings must still be identifiers
  'STIX_SELECTOR_UNRESOLVED', // granular-marking selectors must select something in the object
  'STIX_SPEC_VERSION_INVALID', // the schema also allows "2.0"
  'STIX_TIMESTAMP_INVALID', // calendar dates (February 30) the schema's pattern lets through
  'STIX_TIMESTAMP_PRECISION', // marking-definition created to the millisecond; the schema checks SDO/SRO only
  'STIX_PROPERTY_NAME_INVALID', // the schema's property-name pattern is unanchored (`^…|id$`)
  'STIX_PROPERTY_WRONG_TYPE', // types of properties the schema does not list (description, …) or leaves loose
  'STIX_VALUE_OUT_OF_RANGE', // non-negative counts, precision >= 0
  'STIX_VALUE_INVALID', // domain names (the schema's idn-hostname is permissive here), relationship types
  'STIX_LANG_INVALID', // RFC 5646 tags
  'STIX_URL_INVALID', // the schema leaves artifact/url `uri` checks to formats; ours is stricter on characters
  'STIX_EXTENSION_KEY_INVALID', // marking-definition extension keys checked by schema only for id-form keys
  'STIX_PROPERTY_DEPENDENCY', // latitude requires longitude, decryption_key requires encryption_algorithm, …
  'STIX_PROPERTY_CONFLICT', // body with is_multipart true, extension_properties without toplevel extension
  'STIX_AT_LEAST_ONE_REQUIRED', // at least one SCO-specific property, mime-part body or body_raw_ref
  'STIX_REQUIRED_PROPERTY_MISSING', // extension-definition created_by_ref, statement markings' statement
  'STIX_ENUM_VALUE_INVALID', // closed enumerations the schema lists only under "definitions"
  'STIX_EMPTY_LIST', // nested empty lists (the schema only forbids empty lists at the top level)
  'STIX_NULL_VALUE', // null inside nested structures
  'STIX_DICTIONARY_EMPTY',
  'STIX_DICTIONARY_KEY_INVALID',
  'STIX_TLP_INVALID',
  'STIX_PROPERTY_RESERVED', // reserved names the schema does not list (addresses, *_precision)
  'STIX_TYPE_RESERVED',
  'STIX_HEX_INVALID',
  'STIX_BINARY_INVALID',
  'STIX_ID_INVALID', // ids whose type prefix is not a valid type name
  'STIX_SCO_ID_MISMATCH', // a UUIDv5 SCO id must be the one its ID Contributing Properties give (§2.9)
  'STIX_EXTERNAL_REFERENCE_SOURCE',
  'STIX_HASH_VALUE_INVALID',
  'STIX_HASH_KEY_INVALID',
  'STIX_GRANULAR_MARKING_TARGET',
  'STIX_SELECTOR_INVALID',
]);

const SCHEMA_BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';

function listJson(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? listJson(join(dir, entry.name)) : entry.name.endsWith('.json') ? [join(dir, entry.name)] : [],
  );
}

type AddFormats = (ajv: Ajv2020) => Ajv2020;

function compileSchemas(): Map<string, ValidateFunction> {
  const schemas = listJson(schemaRoot).map((file) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
  const ajv = new Ajv2020({ strict: false, unicodeRegExp: false, allErrors: false, validateFormats: true });
  // ajv-formats is CommonJS with a default export; under ESM interop it may arrive wrapped.
  const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;
  addFormats(ajv);
  ajv.addFormat('idn-hostname', true);
  for (const schema of schemas) ajv.addSchema(schema);
  const byType = new Map<string, ValidateFunction>();
  for (const schema of schemas) {
    const id = String(schema['$id']);
    const [folder, file] = id.slice(SCHEMA_BASE.length).split('/');
    const type = (file ?? '').replace(/\.json$/, '');
    const isObjectSchema =
      folder === 'sdos' || folder === 'sros' || folder === 'observables' || ['marking-definition', 'language-content', 'extension-definition'].includes(type);
    if (!isObjectSchema) continue;
    const validate = ajv.getSchema(id);
    assert.ok(validate, `schema ${id} compiles`);
    byType.set(type, validate);
  }
  return byType;
}

const schemaFor = compileSchemas();

interface Verdicts {
  readonly schemaValid: boolean;
  readonly ours: ValidationReport;
}

function judge(object: unknown): Verdicts | undefined {
  const type = typeof object === 'object' && object !== null ? (object as { type?: unknown }).type : undefined;
  const validate = typeof type === 'string' ? schemaFor.get(type) : undefined;
  if (validate === undefined) return undefined;
  return { schemaValid: validate(object) === true, ours: validateStixObject(object) };
}

/** Returns a description of the disagreement, or undefined when the verdicts agree under the rule above. */
const tally = { schemaRejected: 0, bothRejected: 0, onlyWeRejected: 0 };

function disagreement(object: unknown): string | undefined {
  const v = judge(object);
  if (v === undefined) return undefined;
  if (!v.schemaValid) tally.schemaRejected++;
  if (!v.schemaValid && !v.ours.valid) tally.bothRejected++;
  if (v.schemaValid && !v.ours.valid) tally.onlyWeRejected++;
  if (!v.schemaValid && v.ours.valid) {
    return `schema rejects but we accept: ${JSON.stringify(object).slice(0, 400)}`;
  }
  if (v.schemaValid && !v.ours.valid) {
    const unexplained = v.ours.issues.filter((i) => i.severity === 'error' && !BEYOND_SCHEMA.has(i.code));
    if (unexplained.length > 0) {
      return `we reject with a rule the schema could express: ${JSON.stringify(unexplained)} in ${JSON.stringify(object).slice(0, 300)}`;
    }
  }
  return undefined;
}

interface Corpus {
  readonly name: string;
  readonly objects: readonly unknown[];
}

function loadShippedCorpus(): Corpus[] {
  return readdirSync(corpusRoot)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: `stix-corpus/${f}`, objects: (JSON.parse(readFileSync(join(corpusRoot, f), 'utf8')) as { objects: unknown[] }).objects }));
}

function loadSharedCorpus(): Corpus[] | undefined {
  if (!existsSync(sharedData)) return undefined;
  const bundles = [
    'mitre-attack/enterprise-attack-18.1.json',
    'mitre-attack/mobile-attack-18.1.json',
    'mitre-attack/ics-attack-18.1.json',
    'mitre-atlas/stix-atlas.json',
    ...readdirSync(join(sharedData, 'mitre-atlas/opencti-case-study-bundles')).map((f) => `mitre-atlas/opencti-case-study-bundles/${f}`),
    ...readdirSync(join(sharedData, 'misp-events/misp-stix-fixtures'))
      .filter((f) => f.includes('stix21'))
      .map((f) => `misp-events/misp-stix-fixtures/${f}`),
    ...listJson(join(sharedData, 'stix2-json-schemas/examples')).map((f) => f.slice(sharedData.length)),
  ];
  return bundles.map((path) => {
    const bundle = JSON.parse(readFileSync(join(sharedData, path), 'utf8')) as { objects?: unknown[] };
    return { name: path, objects: bundle.objects ?? [] };
  });
}

function assertAgreement(corpora: readonly Corpus[]): void {
  const problems: string[] = [];
  let standard = 0;
  for (const corpus of corpora) {
    for (const object of corpus.objects) {
      const type = (object as { type?: unknown }).type;
      if (typeof type === 'string' && categoryOf(type) === 'custom') {
        const report = validateStixObject(object);
        if (!report.valid) problems.push(`${corpus.name}: custom object rejected: ${JSON.stringify(report.issues.filter((i) => i.severity === 'error'))}`);
        continue;
      }
      standard++;
      const problem = disagreement(object);
      if (problem !== undefined) problems.push(`${corpus.name}: ${problem}`);
    }
  }
  assert.ok(standard > 0, 'the corpus holds standard objects');
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} disagreements`);
}

describe('validator verdicts agree with the OASIS JSON schemas', () => {
  it('on the shipped corpus (every object type, with licence notices)', () => {
    const corpora = loadShippedCorpus();
    const types = new Set(corpora.flatMap((c) => c.objects.map((o) => (o as { type: string }).type)));
    for (const type of schemaFor.keys()) assert.ok(types.has(type), `the shipped corpus covers ${type}`);
    assertAgreement(corpora);
  });

  it('accepts every hand-written object: they are the valid examples of the types the shared data lacks', () => {
    const handwritten = loadShippedCorpus().find((corpus) => corpus.name === 'stix-corpus/handwritten.json');
    assert.ok(handwritten !== undefined && handwritten.objects.length > 0, 'the shipped corpus has handwritten.json');
    const rejected = handwritten.objects.flatMap((object) => {
      const errors = validateStixObject(object).issues.filter((issue) => issue.severity === 'error');
      return errors.length === 0 ? [] : [`${(object as { id?: string }).id ?? '?'}: ${errors.map((issue) => issue.code).join(', ')}`];
    });
    assert.deepEqual(rejected, []);
  });

  it('on the full shared data set when present', (t) => {
    const corpora = loadSharedCorpus();
    if (corpora === undefined) {
      t.diagnostic(`full STIX corpus not found at ${sharedData}; ran on the shipped corpus only`);
      console.log(`full STIX corpus not found at ${sharedData}; ran on the shipped corpus only`);
      return;
    }
    assertAgreement(corpora);
  });

  describe('on generated invalid variants', () => {
    const bases = loadShippedCorpus()
      .flatMap((c) => c.objects)
      .filter((o) => {
        const v = judge(o);
        return v !== undefined && v.schemaValid && v.ours.valid;
      }) as Record<string, unknown>[];
    const base = fc.constantFrom(...bases);
    const junk = fc.constantFrom<unknown>(42, -1, 1.5, true, 'x', '', [], ['a'], {}, { a: 1 }, null, 'not-a-timestamp');
    const params = { seed: 20251, numRuns: 400 };

    it('dropping a property', () => {
      fc.assert(
        fc.property(base, fc.nat(), (object, n) => {
          const keys = Object.keys(object);
          const copy = { ...object };
          delete copy[keys[n % keys.length] ?? 'type'];
          assert.equal(disagreement(copy), undefined);
        }),
        params,
      );
    });

    it('giving a property a value of the wrong type', () => {
      fc.assert(
        fc.property(base, fc.nat(), junk, (object, n, value) => {
          const keys = Object.keys(object);
          const copy = { ...object, [keys[n % keys.length] ?? 'type']: value };
          assert.equal(disagreement(copy), undefined);
        }),
        params,
      );
    });

    it('an identifier with another type prefix or a malformed UUID', () => {
      const badIds = fc.constantFrom(
        'indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
        'file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
        'bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f',
        'not-an-id',
        'malware--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f',
        'malware--8e2e2d2b-17d4-4cbf-c38f-98ee46b3cd3f',
      );
      fc.assert(
        fc.property(base, badIds, fc.boolean(), (object, id, asRef) => {
          const key = asRef ? Object.keys(object).find((k) => k.endsWith('_ref')) ?? 'id' : 'id';
          const copy = { ...object, [key]: id };
          assert.equal(disagreement(copy), undefined);
          if (key === 'id' && !id.startsWith(`${String(object['type'])}--`)) assert.equal(validateStixObject(copy).valid, false);
        }),
        params,
      );
    });

    it('a malformed timestamp', () => {
      const badTimestamps = fc.constantFrom('2020-13-01T00:00:00.000Z', '2020-01-01 00:00:00.000Z', '2020-01-01T00:00:00.000+01:00', '2020-01-01', '2020-01-01T25:00:00.000Z', '2020-01-01T00:00:00Z');
      fc.assert(
        fc.property(base, badTimestamps, (object, ts) => {
          const keys = Object.keys(object).filter((k) => ['created', 'modified', 'valid_from', 'first_seen', 'last_seen', 'published', 'first_observed'].includes(k));
          const copy = { ...object };
          for (const k of keys) copy[k] = ts;
          assert.equal(disagreement(copy), undefined);
          if (keys.length > 0) assert.equal(validateStixObject(copy).valid, false);
        }),
        params,
      );
    });

    it('exercises both verdicts', () => {
      // Guards the oracle itself: the generated variants must make the schema say no, many times.
      assert.ok(tally.schemaRejected > 200, `schema rejected ${tally.schemaRejected} variants`);
      assert.ok(tally.bothRejected === tally.schemaRejected);
    });

    it('beyond schema: modified earlier than created is rejected by us only', () => {
      const versioned = bases.filter((o) => typeof o['created'] === 'string' && typeof o['modified'] === 'string');
      for (const object of versioned) {
        const copy = { ...object, created: '2030-01-01T00:00:00.000Z' };
        const v = judge(copy);
        assert.ok(v !== undefined);
        assert.equal(v.schemaValid, true, 'the schema cannot compare two properties');
        assert.ok(v.ours.issues.some((i) => i.code === 'STIX_MODIFIED_BEFORE_CREATED'));
      }
    });

    it('beyond schema: a relationship or sighting pointing at the wrong kind of object is rejected by us only', () => {
      const sros = bases.filter((o) => o['type'] === 'sighting');
      for (const object of sros) {
        const copy = { ...object, sighting_of_ref: 'file--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f' };
        const v = judge(copy);
        assert.ok(v !== undefined && v.schemaValid);
        assert.ok(v.ours.issues.some((i) => i.code === 'STIX_REF_TARGET_TYPE'));
      }
      assert.ok(sros.length > 0);
    });
  });
});
