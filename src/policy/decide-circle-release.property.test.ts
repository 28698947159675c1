// Property-based leak test of the release decision at the pure level (issue 3). Random circles,
// agreements, memberships with windows, objects with object-level and granular markings and
// references, recipients and times; a deliberately simple reference policy written here, apart
// from the implementation (test/circles/release-world.ts, shared with the HTTP leak test), says
// what each recipient may see, and decideCircleRelease must never share or reveal more. LEAK_CASES=1000000 runs a long campaign; LEAK_SEED replays another seed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonObject, JsonValue, StixObject } from '../stix/types.ts';
import type { Circle, CircleMember } from './circle.ts';
import { decideCircleRelease, decideCircleReleaseFor, decideCircleStanding, type CircleReleaseDecision, type ReleaseSubjectWithObject } from './decide-circle-release.ts';
import { DEFINITIONS, HOUR, MARKING_IDS, MEANING, ORGS, RANK, SELECTORS, T0, referencePolicy, scenarioArb, type Scenario, type Verdict } from '../../test/circles/release-world.ts';

const CASES = Number(process.env['LEAK_CASES'] ?? 10_000);
const SEED = Number(process.env['LEAK_SEED'] ?? 20261122);
// Each monotonicity case compares the views of all five organisations before and after.
const MONOTONIC_CASES = Math.max(1000, Math.floor(CASES / 10));

// ---------------------------------------------------------------------------------------------
// Running both over a scenario
// ---------------------------------------------------------------------------------------------

interface Outcome {
  readonly object: StixObject;
  readonly decision: CircleReleaseDecision;
  readonly verdict: Verdict;
}

/**
 * The release gate's way: the recipient's standing worked out once for the whole scenario (a page),
 * each object decided under it; held to the same answer as a decision taken from scratch per object.
 */
function run(s: Scenario): Outcome[] {
  const subject = (object: StixObject): ReleaseSubjectWithObject => ({
    object, markingDefinitions: DEFINITIONS, ...(s.receivedVia === undefined ? {} : { receivedVia: s.receivedVia }),
  });
  const standing = decideCircleStanding(s.recipient, s.circle, s.state, s.at);
  const decide = (object: StixObject, lookup: (id: string) => CircleReleaseDecision['kind'] | undefined): CircleReleaseDecision => {
    const decision = decideCircleReleaseFor(subject(object), standing, lookup);
    assert.deepEqual(decision, decideCircleRelease(subject(object), s.recipient, s.circle, s.state, s.at, lookup), 'the standing shared by a page changes no decision');
    return decision;
  };
  const decided = new Map<string, CircleReleaseDecision['kind']>();
  const judged = new Map<string, boolean>();
  const outcomes: Outcome[] = [];
  for (const object of s.pool) {
    const decision = decide(object, () => undefined);
    const verdict = referencePolicy(object, s, () => false);
    decided.set(object.id, decision.kind);
    judged.set(object.id, verdict.see);
    outcomes.push({ object, decision, verdict });
  }
  for (const object of s.dependents) {
    const decision = decide(object, (id) => decided.get(id));
    const verdict = referencePolicy(object, s, (id) => judged.get(id) === true);
    outcomes.push({ object, decision, verdict });
  }
  return outcomes;
}

/** What the recipient would receive: nothing, the object, or its redacted copy. */
function view(decision: CircleReleaseDecision, object: StixObject): StixObject | undefined {
  if (decision.kind === 'share') return object;
  if (decision.kind === 'redact') return decision.redacted;
  return undefined;
}

/** The leaks of one released copy against the reference verdict (empty when none). */
function leaks(outcome: Outcome): string[] {
  const released = view(outcome.decision, outcome.object);
  if (released === undefined) return [];
  if (!outcome.verdict.see) return [`released ${outcome.object.id}, which the reference withholds`];
  const found: string[] = [];
  for (const [key, value] of Object.entries(released)) {
    if (outcome.verdict.hide.has(key)) found.push(`released ${key}, which the reference hides`);
    if (!Object.hasOwn(outcome.object, key)) found.push(`released ${key}, which the object does not have`);
    else if (key === 'object_refs') {
      for (const id of value as string[]) {
        if (outcome.verdict.hideRefs.has(id)) found.push(`released object_refs entry ${id}`);
        if (!(outcome.object['object_refs'] as string[]).includes(id)) found.push(`invented object_refs entry ${id}`);
      }
    } else if (key !== 'granular_markings' && JSON.stringify(value) !== JSON.stringify(outcome.object[key])) {
      found.push(`changed ${key}`);
    }
  }
  return found;
}

/** True when `narrow` reveals nothing that `wide` does not. */
function isSubView(narrow: StixObject | undefined, wide: StixObject | undefined): boolean {
  if (narrow === undefined) return true;
  if (wide === undefined) return false;
  for (const [key, value] of Object.entries(narrow)) {
    // Markings are annotations, not content: the narrower copy may carry more (or fewer) of them.
    if (key === 'granular_markings' || key === 'object_marking_refs') continue;
    if (!Object.hasOwn(wide, key)) return false;
    if (key === 'object_refs') {
      if (!(value as string[]).every((id) => (wide['object_refs'] as string[]).includes(id))) return false;
    } else if (JSON.stringify(value) !== JSON.stringify(wide[key])) {
      return false;
    }
  }
  return true;
}

function views(s: Scenario): Map<string, StixObject | undefined> {
  return new Map(run(s).map((o) => [`${o.object.type}:${o.object.id}`, view(o.decision, o.object)]));
}

function everyRecipient(s: Scenario): Scenario[] {
  return ORGS.map((organisationId) => ({ ...s, recipient: { ...s.recipient, organisationId } }));
}

describe('decideCircleRelease never reveals more than the reference policy (property, seeded)', () => {
  it(`0 leaks over ${CASES} random scenarios (seed ${SEED})`, (t) => {
    const started = performance.now();
    let decisions = 0;
    let releases = 0;
    let redactions = 0;
    let agreeing = 0;
    const withheldBy = new Map<string, number>();
    const disagreements: string[] = [];
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const outcomes = run(s);
        // An SCO's id names its content: the id of one the reference withholds appears in no released copy.
        const hiddenScoIds = outcomes.filter((o) => o.object.type === 'ipv4-addr' && !o.verdict.see).map((o) => o.object.id);
        for (const outcome of outcomes) {
          const text = JSON.stringify(view(outcome.decision, outcome.object) ?? null);
          for (const id of hiddenScoIds) assert.equal(text.includes(id), false, `${outcome.object.id} released the id of ${id}, which the reference withholds`);
        }
        for (const outcome of outcomes) {
          decisions += 1;
          if (outcome.decision.kind !== 'withhold') releases += 1;
          if (outcome.decision.kind === 'redact') redactions += 1;
          if (outcome.decision.kind === 'withhold') {
            const rule = (outcome.decision.reasons[0] ?? '').split(':')[0] ?? '';
            withheldBy.set(rule, (withheldBy.get(rule) ?? 0) + 1);
            if (process.env['DEBUG_RULE'] === rule && disagreements.length < 3) disagreements.push(`${outcome.decision.reasons.join(' | ')} at ${s.at.toISOString()} ${JSON.stringify(s.circle)}`);
          }
          if ((outcome.decision.kind !== 'withhold') !== outcome.verdict.see && disagreements.length < 3) {
            disagreements.push(`${outcome.decision.kind} vs reference ${String(outcome.verdict.see)}: ${outcome.decision.reasons.join(' | ')} ${JSON.stringify(outcome.object)}`);
          }
          if ((outcome.decision.kind !== 'withhold') === outcome.verdict.see) agreeing += 1;
          const found = leaks(outcome);
          assert.deepEqual(found, [], `${outcome.object.id}: ${found.join('; ')}\nreasons: ${outcome.decision.reasons.join(' | ')}`);
        }
      }),
      { seed: SEED, numRuns: CASES },
    );
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`${CASES} scenarios, ${decisions} decisions, ${releases} released (${redactions} redacted), ${agreeing} agree with the reference on release, ${seconds.toFixed(1)} s`);
    t.diagnostic(`withheld by rule: ${JSON.stringify(Object.fromEntries([...withheldBy].sort((x, y) => y[1] - x[1])))}`);
    for (const line of disagreements) t.diagnostic(line);
    // A decision that withholds everything leaks nothing; make sure the test exercises releases.
    assert.ok(releases > decisions / 20, `only ${releases} of ${decisions} decisions released something`);
    assert.equal(agreeing, decisions, 'the decision and the reference differ on whether to release (over-strict or a rule drifted)');
  });
});

describe('monotonicity: no change that narrows the inputs enlarges anyone’s view (property, seeded)', () => {
  it('adding a marking (object-level or granular) never enlarges the view', () => {
    fc.assert(
      fc.property(scenarioArb, fc.constantFrom(...MARKING_IDS), fc.boolean(), fc.constantFrom(...SELECTORS), fc.nat(), (s, marking, granular, selector, pick) => {
        const all = [...s.pool, ...s.dependents];
        const target = all[pick % all.length] as StixObject;
        const meaning = MEANING.get(marking);
        const refs = (target['object_marking_refs'] ?? []) as string[];
        const hasOfficialTlp = refs.some((r) => { const m = MEANING.get(r); return m?.kind === 'tlp' && m.official; });
        // The one documented exception: an object without a published TLP marking stands at the
        // circle default (or the stricter default of the circles it arrived through); its originator
        // labelling it explicitly below the default is a statement, not a narrowing. Every other
        // marking may only narrow.
        const defaultRank = Math.max(RANK[s.circle.defaultTlp] as number, s.receivedVia === undefined ? 0 : (RANK[s.receivedVia.arrivalDefaultTlp] as number));
        if (!granular && meaning?.kind === 'tlp' && meaning.official && !hasOfficialTlp && meaning.rank < defaultRank) return;
        // The other: RED content goes to the organisations named by recipients markings, so the
        // first recipients marking on an object carrying RED names its recipients (a grant to
        // content nobody could see before); every further one narrows (the lists intersect).
        const granularRefs = ((target['granular_markings'] ?? []) as JsonObject[]).map((g) => g['marking_ref']);
        const carriesRed =
          [...refs, ...granularRefs].some((r) => { const m = MEANING.get(r as string); return m?.kind === 'tlp' && m.rank === 4; }) ||
          (!hasOfficialTlp && defaultRank === 4);
        const named = refs.some((r) => MEANING.get(r)?.kind === 'recipients');
        if (!granular && meaning?.kind === 'recipients' && !named && carriesRed) return;
        const marked: StixObject = granular
          ? { ...target, granular_markings: [...((target['granular_markings'] ?? []) as JsonValue[]), { selectors: [selector], marking_ref: marking }] }
          : { ...target, object_marking_refs: [...refs, marking] };
        const replace = (list: readonly StixObject[]): StixObject[] => list.map((o) => (o === target ? marked : o));
        for (const before of everyRecipient(s)) {
          const after = { ...before, pool: replace(before.pool), dependents: replace(before.dependents) };
          const wide = views(before);
          const narrow = views(after);
          for (const [key, narrowView] of narrow) assert.ok(isSubView(narrowView, wide.get(key)), `${key} grew after adding ${marking}`);
        }
      }),
      { seed: SEED + 1, numRuns: MONOTONIC_CASES },
    );
  });

  it('removing a member never enlarges any recipient’s view', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat(), (s, pick) => {
        if (s.circle.members.length === 0) return;
        const removed = s.circle.members[pick % s.circle.members.length] as CircleMember;
        const smaller: Circle = { ...s.circle, members: s.circle.members.filter((m) => m !== removed) };
        for (const before of everyRecipient(s)) {
          const wide = views(before);
          const narrow = views({ ...before, circle: smaller });
          for (const [key, narrowView] of narrow) assert.ok(isSubView(narrowView, wide.get(key)), `${key} grew for ${before.recipient.organisationId} after removing ${removed.organisationId}`);
        }
      }),
      { seed: SEED + 2, numRuns: MONOTONIC_CASES },
    );
  });

  it('ending a circle (earlier) never enlarges any recipient’s view', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: -10, max: 140 }), (s, endHours) => {
        const end = T0 + endHours * HOUR;
        const current = s.circle.validUntil === undefined ? Infinity : Date.parse(s.circle.validUntil);
        const ended: Circle = { ...s.circle, validUntil: new Date(Math.min(end, current)).toISOString() };
        for (const before of everyRecipient(s)) {
          const wide = views(before);
          const narrow = views({ ...before, circle: ended });
          for (const [key, narrowView] of narrow) assert.ok(isSubView(narrowView, wide.get(key)), `${key} grew after ending the circle`);
        }
      }),
      { seed: SEED + 3, numRuns: MONOTONIC_CASES },
    );
  });
});
