// Property test of rule 3a of the release decision (src/policy/README.md): a version contributed
// through a circle goes to a member only when each of its contributors agreed to terms with that
// member in the circle. Over random circles, agreement states, recipients, times, contributors and
// releasing organisations (test/circles/release-world.ts), the reference below — the least the rule
// asks, written apart from the implementation: the contributor is the recipient, a coordinator that
// had not left when the recipient joined, or accepted something in this circle between the
// recipient's joining and now — must hold for every version the decision releases. The rule only
// ever withholds (with `newcomer:`), never changes what else the decision says, and lets something
// through often enough that "withhold everything" cannot pass. LEAK_CASES and LEAK_SEED as for the
// other leak tests.
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideCircleReleaseFor, decideCircleStanding, type ReleaseSubjectWithObject } from '../../src/policy/decide-circle-release.ts';
import type { StixObject } from '../../src/stix/types.ts';
import { DEFINITIONS, HOUR, ORGS, T0, scenarioArb, type Scenario } from './release-world.ts';

const CASES = Number(process.env['LEAK_CASES'] ?? 5_000);
const SEED = Number(process.env['LEAK_SEED'] ?? 20261124);

/** The reference: whether `contributor` can have agreed to anything with the recipient in the circle. */
function mayHaveCovered(s: Scenario, contributor: string): boolean {
  const recipient = s.recipient.organisationId;
  if (contributor === recipient) return true;
  const member = s.circle.members.find((m) => m.organisationId === recipient);
  if (member === undefined) return false;
  const joined = Date.parse(member.joinedAt);
  const other = s.circle.members.find((m) => m.organisationId === contributor);
  if (other?.role === 'coordinator' && (other.leftAt === undefined || joined < Date.parse(other.leftAt))) return true;
  return s.state.acceptances.some(
    (a) => a.circleId === s.circle.id && a.organisationId === contributor && Date.parse(a.acceptedAt) >= joined && Date.parse(a.acceptedAt) <= s.at.getTime(),
  );
}

interface Case {
  readonly s: Scenario;
  /** undefined: the releasing organisation's own version. */
  readonly contributors: readonly string[] | undefined;
  readonly releasing: string | undefined;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    s: scenarioArb,
    contributors: fc.option(fc.subarray(ORGS, { minLength: 1, maxLength: 2 }), { nil: undefined }),
    releasing: fc.option(fc.constantFrom(...ORGS), { nil: undefined }),
    // Often one contributor accepted the first version at an hour between 0 and 70, so that some
    // acknowledged the recipient and some did not.
    lift: fc.option(fc.integer({ min: 0, max: 70 }), { nil: undefined }),
  })
  .map(({ s, contributors, releasing, lift }) => {
    const first = s.state.agreements[0];
    const lifted = contributors?.[0] ?? releasing;
    if (lift === undefined || first === undefined || lifted === undefined) return { s, contributors, releasing };
    const acceptance = { circleId: s.circle.id, organisationId: lifted, version: first.version, acceptedAt: new Date(T0 + lift * HOUR).toISOString() };
    // The releasing organisation agreed to that version too, so that it can bind the contributor (rule 3).
    const agreed = releasing === undefined || releasing === lifted ? [] : [{ ...acceptance, organisationId: releasing, acceptedAt: new Date(T0).toISOString() }];
    return { s: { ...s, state: { ...s.state, acceptances: [...s.state.acceptances, acceptance, ...agreed] } }, contributors, releasing };
  });

describe('rule 3a: a member added later receives a contributor\'s versions only once that contributor agreed with it in (property, seeded)', () => {
  it(`0 leaks over ${CASES} random scenarios (seed ${SEED}); the rule only withholds, and lets foreign contributions through`, (t) => {
    let foreignReleased = 0;
    let foreignWithheld = 0;
    fc.assert(
      fc.property(caseArb, ({ s, contributors, releasing }) => {
        const standing = decideCircleStanding(s.recipient, s.circle, s.state, s.at, 0, releasing);
        const subject = (object: StixObject, who: readonly string[] | undefined): ReleaseSubjectWithObject => ({
          object, markingDefinitions: DEFINITIONS,
          ...(s.receivedVia === undefined ? {} : { receivedVia: s.receivedVia }),
          ...(who === undefined ? {} : { contributors: who }),
        });
        const named = contributors ?? (releasing === undefined ? [] : [releasing]);
        const foreign = named.some((org) => org !== s.recipient.organisationId);
        for (const object of s.pool) {
          const decision = decideCircleReleaseFor(subject(object, contributors), standing);
          // The recipient's own version: the rule has nothing to say.
          const base = decideCircleReleaseFor(subject(object, [s.recipient.organisationId]), standing);
          if (decision.kind !== 'withhold') {
            for (const org of named) assert.ok(mayHaveCovered(s, org), `released to ${s.recipient.organisationId} what ${org} contributed without agreeing with it in: ${decision.reasons.join('; ')}`);
            assert.deepEqual(decision, base, 'the rule changes nothing in what it lets through');
            if (foreign) foreignReleased += 1;
          } else if (!isDeepStrictEqual(decision, base)) {
            assert.match(decision.reasons[0] ?? '', /^newcomer: /, 'the rule only adds a withhold of its own');
            if (foreign) foreignWithheld += 1;
          }
        }
      }),
      { seed: SEED, numRuns: CASES },
    );
    t.diagnostic(`foreign contributions released ${foreignReleased}, withheld by the rule ${foreignWithheld}`);
    assert.ok(foreignReleased >= CASES / 50, `too few foreign contributions released (${foreignReleased}): the test would pass a decision that withholds them all`);
    assert.ok(foreignWithheld >= CASES / 50, `too few withheld by the rule (${foreignWithheld}): the scenarios do not exercise it`);
  });
});
