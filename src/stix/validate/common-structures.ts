// Structures shared by all objects (STIX 2.1 section 2): kill chain phases, external references, granular markings.
import type { CheckContext } from './check-value.ts';
import { checkLowerHyphenated, checkShape } from './check-value.ts';
import { memberPath } from './issue-sink.ts';
import { HASHES, LANG, ref, shape, STRING, toTypes, URL, type JsonRecord, type Shape } from './property-spec.ts';

const KILL_CHAIN_PHASE: Shape = shape({ kill_chain_name: STRING, phase_name: STRING }, ['kill_chain_name', 'phase_name']);

export function checkKillChainPhase(item: JsonRecord, path: string, ctx: CheckContext): void {
  checkShape(KILL_CHAIN_PHASE, item, path, ctx);
  checkLowerHyphenated(item['kill_chain_name'], path, 'kill_chain_name', ctx, 'kill_chain_name');
  checkLowerHyphenated(item['phase_name'], path, 'phase_name', ctx, 'phase_name');
}

const EXTERNAL_REFERENCE: Shape = shape(
  { source_name: STRING, description: STRING, url: URL, hashes: HASHES, external_id: STRING },
  ['source_name'],
);
const CVE_ID = /^CVE-\d{4}-(?:0\d{3}|[1-9]\d{3,})$/;
const CAPEC_ID = /^CAPEC-\d+$/;

export function checkExternalReference(item: JsonRecord, path: string, ctx: CheckContext): void {
  checkShape(EXTERNAL_REFERENCE, item, path, ctx);
  const source = item['source_name'];
  const externalId = item['external_id'];
  const idPath = memberPath(path, 'external_id');
  if (source === 'cve' || source === 'capec') {
    const pattern = source === 'cve' ? CVE_ID : CAPEC_ID;
    const example = source === 'cve' ? 'CVE-2021-44228' : 'CAPEC-163';
    if (externalId === undefined) {
      ctx.sink.error(idPath, 'STIX_REQUIRED_PROPERTY_MISSING', `an external reference to '${source}' needs external_id (like ${example})`);
    } else if (typeof externalId === 'string' && !pattern.test(externalId)) {
      ctx.sink.error(idPath, 'STIX_EXTERNAL_ID_INVALID', `a '${source}' external_id must look like ${example}`);
    }
    return;
  }
  if (externalId === undefined && item['description'] === undefined && item['url'] === undefined) {
    ctx.sink.error(path, 'STIX_EXTERNAL_REFERENCE_INCOMPLETE', 'an external reference needs description, url or external_id besides source_name');
  }
  if (typeof externalId === 'string' && (CVE_ID.test(externalId) || CAPEC_ID.test(externalId))) {
    const expected = externalId.startsWith('CVE') ? 'cve' : 'capec';
    ctx.sink.error(
      memberPath(path, 'source_name'),
      'STIX_EXTERNAL_REFERENCE_SOURCE',
      `external_id '${externalId}' is a ${expected.toUpperCase()} identifier, so source_name must be '${expected}'`,
    );
  }
}

const GRANULAR_MARKING: Shape = shape({ selectors: { kind: 'list', item: STRING }, lang: LANG, marking_ref: ref(toTypes('marking-definition')) }, [
  'selectors',
]);

export function checkGranularMarking(item: JsonRecord, path: string, ctx: CheckContext): void {
  checkShape(GRANULAR_MARKING, item, path, ctx);
  const hasRef = item['marking_ref'] !== undefined;
  const hasLang = item['lang'] !== undefined;
  if (hasRef === hasLang) {
    ctx.sink.error(path, 'STIX_GRANULAR_MARKING_TARGET', 'a granular marking needs exactly one of marking_ref or lang');
  }
  const selectors = item['selectors'];
  if (!Array.isArray(selectors)) return;
  for (let i = 0; i < selectors.length; i++) {
    const selector: unknown = selectors[i];
    if (typeof selector !== 'string') continue;
    const verdict = resolveSelector(ctx.root, selector);
    if (verdict === 'syntax') {
      ctx.sink.error(`${path}.selectors[${i}]`, 'STIX_SELECTOR_INVALID', `'${selector.slice(0, 80)}' is not a selector like 'description' or 'external_references.[0].url'`);
    } else if (verdict === 'unresolved') {
      ctx.sink.error(`${path}.selectors[${i}]`, 'STIX_SELECTOR_UNRESOLVED', `'${selector.slice(0, 80)}' does not select a property or list item of this object`);
    }
  }
}

function isSelectorKeyChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/**
 * Walks a granular-marking selector (`a.b.[2].c`) through the object. The grammar follows the OASIS
 * schema: a first segment of 3..249 key characters (or `id`), then `.key` or `.[index]` segments.
 */
export function resolveSelector(root: JsonRecord, selector: string): 'ok' | 'syntax' | 'unresolved' {
  if (selector.length === 0 || selector.length > 4096) return 'syntax';
  let current: unknown = root;
  let unresolved = false;
  let start = 0;
  let first = true;
  while (start <= selector.length) {
    let end = selector.indexOf('.', start);
    if (end < 0) end = selector.length;
    const segment = selector.slice(start, end);
    if (segment.length === 0) return 'syntax';
    if (segment.charCodeAt(0) === 91 /* [ */) {
      if (first || segment.length < 3 || segment.charCodeAt(segment.length - 1) !== 93) return 'syntax';
      for (let i = 1; i < segment.length - 1; i++) {
        const c = segment.charCodeAt(i);
        if (c < 48 || c > 57) return 'syntax';
      }
      const index = Number(segment.slice(1, -1));
      if (!unresolved) {
        if (Array.isArray(current) && index < current.length) current = current[index];
        else unresolved = true;
      }
    } else {
      if (first && segment !== 'id' && (segment.length < 3 || segment.length > 249)) return 'syntax';
      for (let i = 0; i < segment.length; i++) if (!isSelectorKeyChar(segment.charCodeAt(i))) return 'syntax';
      if (!unresolved) {
        if (typeof current === 'object' && current !== null && !Array.isArray(current) && Object.hasOwn(current, segment)) {
          current = (current as JsonRecord)[segment];
        } else {
          unresolved = true;
        }
      }
    }
    first = false;
    start = end + 1;
  }
  return unresolved ? 'unresolved' : 'ok';
}

