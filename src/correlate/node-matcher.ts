// The matcher the running node keeps: every active indicator of every collection, compiled once and
// taken in incrementally (a timer, and before each batch of observations posted to the node). Alerts
// are deduplicated per (indicator version, observable, window) as in `entente match`, stored as sightings of
// the indicator by the home organisation when they open (a new version with the final count when
// their window closes), shared back into the indicator's circles whose agreements allow it and whose
// latest version is the one that matched (share-sightings.ts), and published on the alert bus.
// Where the home sighting goes: a home token reads everything of a collection it has a read grant on,
// and a sighting names its indicator and its evidence holds the indicator's value. So it is stored,
// with its evidence, only beside the indicator — in each collection holding the version that matched
// as its latest and carrying no circle — whose readers read the indicator; never in the default
// collection (its readers need not read the indicator's collection) nor in a circle's collection
// (unmarked, it would go to the members at the circle's default TLP): a circle receives only the copy
// its agreement allows (share-sightings.ts), marked as the indicator is. A version held by circles'
// collections alone has no such place: its home sighting goes into the home sightings collection
// (bootstrap-node.ts), shared with no one and read only by tokens granted it explicitly, so that every
// match leaves a record at home (home-sighting-placement.ts).
// Observations a token posts are stored as sightings only where that token may read the indicator
// (storing one would tell it the indicator's id), in the collections it may write (the home sightings
// collection only when it may write a circle's collection holding the indicator), and shared back only
// into the circles whose collection it may write: a sighting and its evidence are published as the
// home organisation's. Observed-data stored in a collection is matched with the rights its writer is
// known to have: read and write on that collection alone (collectionWriter).
// The matcher compiles, side by side, every version of an indicator that is the latest of some
// collection (IndicatorLoader, `latest-of-each`): tokens read different collections, and each gets the
// alerts of the newest version it may read — one alert, whichever of its collections hold it. An alert
// is about the version that matched: it goes to those who may read a collection whose latest version
// it is, and who may read none whose latest is newer and of the same creator and origin (AlertEvent.newerIn; a
// revoked or expired newest version gives its readers no alert, as for the reader of that collection
// alone). Both are read from the store for each batch, so a deletion, a recall or a new version
// applies at once. So a newer version held where a token may not read neither suppresses the alerts
// of the version it may read nor shows (its name, pattern and that it exists). Only its creator makes
// new versions of an object (STIX 2.1), and created_by_ref is authenticated only for organisations with
// pinned keys: a "newer version" that the store cannot prove comes from the matched version's origin
// (version-origin.ts: a home original; whom its arrivals prove originated it, by the release gate's
// attribution rule, unless a partner that wrote it here contradicts a signer it does not name as creator;
// the partner that wrote it into a collection no relay delivered it to), which any
// writer of some collection can plant under another organisation's indicator id copying its reference
// or leaving it out, suppresses nothing; a reader of both collections gets the alerts of both. The peer
// that relayed a version is not its origin: it could otherwise silence the version it relayed.
// The confidence compiled counts the sightings and opinions of every collection: the alert carries
// which collection holds which (IndicatorLoader.basisOf), and each reader is shown the confidence of
// the collections it may read (alerts-routes.ts alertFor), not a number telling it of evidence it may
// not read.
// A removal also rebuilds the compiled matcher at the next refresh (the store counts removals per
// collection), so a version no collection holds stops matching and an older one still held matches again.
import { openIndicatorSources, type IndicatorSources } from '../federation/load-source-reputation.ts';
import { canReadCollection, canWriteCollection, type Recipient } from '../policy/recipient.ts';
import { ingest } from '../store/ingest.ts';
import type { ObjectStore, StoredEntry } from '../store/object-store.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import type { StixObject } from '../stix/types.ts';
import { AlertAggregator, toAlertRecord, type Alert } from './alert-aggregator.ts';
import type { AlertBus, AlertEvent, AlertJson } from './alert-bus.ts';
import { BulkMatcher, type OverBudget } from './bulk-matcher.ts';
import type { ConfidenceBasis } from './effective-confidence.ts';
import { IndicatorLoader, type LoadedIndicators, type PatternOverLimit } from './load-indicators.ts';
import { emptySummary, matchInput } from './match-input.ts';
import { latestEntriesIn } from '../store/latest-in-collection.ts';
import { compareVersions } from '../store/compare-versions.ts';
import { lineageCreatorOf, readOrigins } from './version-origin.ts';
import { createObservationReader } from './read-observations.ts';
import { homeWrittenIn } from './home-written.ts';
import { placeHomeSighting } from './home-sighting-placement.ts';
import { homeSightingsCollectionOf } from '../bootstrap-node.ts';
import { shareSightingsBack, type SharedSighting, type SightingToShare } from './share-sightings.ts';
import { definitionsWanted, SIGHTING_EVIDENCE_PROPERTY, sightingObjects, sightingWithFinalCounts, strictestCircleDefault, type SightingBundle } from './sighting-objects.ts';

export interface NodeMatcherDeps {
  readonly store: ObjectStore;
  readonly bus: AlertBus;
  readonly clock: () => Date;
  readonly randomUuid: () => string;
  readonly homeOrganisationId: string;
  /** Deduplication window (seconds); 3600 as for `entente match`. */
  readonly windowSeconds?: number;
  /** Timer for taking in new, superseded and revoked indicators (seconds); 10. */
  readonly refreshSeconds?: number;
  /** A request does not refresh again when the last refresh is more recent than this (ms); 250. */
  readonly onDemandMinMs?: number;
  readonly maxLineChars?: number;
  readonly onError?: (what: string, error: unknown) => void;
  /** Told of each observation whose MATCHES/LIKE step budget ran out (a log line with its code). */
  readonly onOverBudget?: (event: OverBudget) => void;
  /**
   * Told of the indicators a load or refresh left out of the matcher because their pattern is past a
   * planning limit (pattern/pattern-limits.ts): kept and shared, never matched, which the operator
   * would not guess from an indicator that simply never alerts. A refresh tells only those it took in.
   */
  readonly onPatternOverLimit?: (entries: readonly PatternOverLimit[]) => void;
}

/**
 * MATCHES and LIKE steps all the observations matched in one turn of the event loop may spend
 * together (~0.25 s of the engine): each observation has its own budget too (BulkMatcher), but a
 * 16 KB slice of lines each just within it could still hold the node's requests for seconds.
 */
const TURN_STEP_BUDGET = 50_000_000;

export interface ObservationsOutcome {
  readonly lines: number;
  readonly observations: number;
  readonly ignored: number;
  readonly malformed: number;
  readonly malformed_lines: readonly { readonly line: number; readonly reason: string }[];
  /**
   * All matches, those of indicators the caller may not read included (for administrators): one per
   * version that matched, when versions of an indicator held by different collections both match.
   */
  readonly matches: number;
  /**
   * Sightings stored at home (beside their indicators: the collections holding the version that
   * matched, carrying no circle, that the caller may write; or the home sightings collection when only
   * circles' collections hold it), of the indicators the caller may read only; so are the rejected and
   * shared counts.
   */
  readonly sightings_stored: number;
  readonly sightings_rejected: number;
  /** Copies of this request's sightings put into circles' collections (circle agreements allowing) that the caller may read. */
  readonly sightings_shared: number;
  /**
   * Present when a sighting was stored nowhere at home because the caller may write none of the
   * collections it would go into (for a version only circles hold: none of those circles' collections).
   */
  readonly sightings_not_stored?: 'no-write-grant';
  /** Alerts this request opened (matches of alerts already open only raise their count). */
  readonly alerts: readonly AlertJson[];
  /** For each alert, the collections whose latest version of its indicator is the one that matched. */
  readonly collections: readonly (readonly string[])[];
  /** For each alert, the collections whose latest version of its indicator is newer, of its creator and origin (AlertEvent.newerIn). */
  readonly newerIn: readonly (readonly string[])[];
  /** For each alert, what its confidence is made of (AlertEvent.basis): show it to a token with confidenceIn. */
  readonly bases: readonly (ConfidenceBasis | undefined)[];
  /**
   * For each alert, the key of the indicator version that matched (AlertEvent.version), never shown:
   * what the answer to the caller, sent once the sightings are stored, asks who the alert is for now with (audiencesNow).
   */
  readonly versions: readonly (string | undefined)[];
}

interface Compiled {
  readonly matcher: BulkMatcher;
  readonly loader: IndicatorLoader;
  readonly collections: readonly string[];
}

/** The sighting of an alert as it opens: built and valid, or refused by validation. */
type Sighting = SightingBundle | 'invalid';

/** A sighting to store, with the version of its indicator that matched (the circles holding it as their latest get copies). */
interface ToStore {
  readonly alert: Alert;
  readonly bundle: SightingBundle;
  readonly indicatorVersion: string;
  /**
   * The collections it is stored in at home (#publish: beside the indicator, where the caller may
   * write); the home sightings collection when only circles hold the version.
   */
  readonly homeIn: readonly string[];
}

/** Who an alert on one version of an indicator is for (AlertEvent.collections and newerIn). */
interface Audience {
  readonly holding: readonly string[];
  readonly newerIn: readonly string[];
}

/** A collection's latest version of an indicator (its key as written), its creator (creatorOf), its origin (version-origin.ts) and its content. */
interface LatestHeld {
  readonly version: string;
  readonly creator: string | undefined;
  readonly origin: string | undefined;
  /** The version as stored: the home sighting of a match on it carries its markings (sighting-objects.ts homeSightingMarkings). */
  readonly object: Readonly<Record<string, unknown>>;
}

/** An alert opened by a batch, published once the batch's latest versions are read. */
interface OpenedAlert {
  readonly alert: Alert;
  readonly version: string | undefined;
  /** The alert as it opened (its counts and times then; `alert` goes on counting): what its sighting says. */
  readonly opening: Alert;
  /** When the alert opened: its sighting's created and modified. */
  readonly openedAt: string;
  readonly basis: ConfidenceBasis | undefined;
}

interface Published {
  readonly alert: AlertJson;
  readonly collections: readonly string[];
  readonly newerIn: readonly string[];
  readonly basis: ConfidenceBasis | undefined;
  /** The sighting to store for the caller: absent when it may not read the indicator, or may store it nowhere. */
  readonly toStore?: ToStore;
  readonly invalidSighting: boolean;
  /** The caller reads the indicator, but may write none of the collections its home sighting would go into (or that let it go into the home sightings collection). */
  readonly noWriteGrant: boolean;
}

const maxMalformedReported = 100;
/** Characters matched between two turns of the event loop (~70 lines of ~225 bytes). */
const sliceChars = 16 * 1024;

async function* slices(text: string): AsyncGenerator<string> {
  for (let start = 0; start < text.length; start += sliceChars) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    yield text.slice(start, start + sliceChars);
  }
}

export class NodeMatcher {
  readonly #deps: NodeMatcherDeps;
  readonly #aggregator: AlertAggregator;
  readonly #windowSeconds: number;
  /** Source reputations (when the store keeps provenance), kept across rebuilds and recomputed in the background. */
  readonly #sources: IndicatorSources | undefined;
  #compiled: Compiled | undefined;
  #refreshing: Promise<void> | undefined;
  /** A rebuild following removals, running in the background (see #refreshInPlace). */
  #rebuild: Promise<void> | undefined;
  #lastRefresh = 0;
  #timer: NodeJS.Timeout | undefined;
  /** collection → date_added (µs) of the last observed-data fed to the matcher. */
  readonly #observedCursors = new Map<string, number>();
  /** alert key → the sighting stored when it opened, the collections holding it, and its copies shared into circles. */
  readonly #sightings = new Map<string, { sighting: StixObject; collectionIds: readonly string[]; shared: readonly SharedSighting[] }>();

  constructor(deps: NodeMatcherDeps) {
    this.#deps = deps;
    this.#windowSeconds = deps.windowSeconds ?? 3600;
    this.#aggregator = new AlertAggregator(this.#windowSeconds);
    this.#sources = openIndicatorSources(deps.store, { ...(deps.onError !== undefined ? { onError: deps.onError } : {}) });
  }

  /** Compiles the indicators and starts the refresh timer. */
  async start(): Promise<void> {
    await this.refresh();
    const every = (this.#deps.refreshSeconds ?? 10) * 1000;
    this.#timer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.#deps.onError?.('refresh indicators', error));
    }, every);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#refreshing?.catch(() => undefined);
    await this.#rebuild;
    await this.#closeWindows(undefined);
  }

  get indicators(): number {
    return this.#compiled?.matcher.stats().indicators ?? 0;
  }

  /**
   * Takes in what the store gained since the last call; rebuilds when the set of collections changed
   * or versions were removed from one of them (a DELETE, a recall: an incremental refresh only adds).
   * Resolves once a rebuild that follows removals is done too. Also closes the windows that ended
   * (final sighting counts).
   */
  async refresh(): Promise<void> {
    await this.#refreshInPlace();
    await this.#rebuild;
  }

  /**
   * The refresh observations wait for: concurrent callers share one. A rebuild that only follows
   * removals runs in the background (about 20 s a million indicators): meanwhile the current matcher
   * serves and takes in additions, and what it still matches of a removed version reaches no one,
   * since the collections holding the version that matched are read for each batch. A rebuild for a
   * changed set of collections is waited for, so that a new collection's indicators match at once.
   */
  #refreshInPlace(): Promise<void> {
    if (this.#refreshing !== undefined) return this.#refreshing;
    this.#refreshing = this.#refreshOnce().finally(() => {
      this.#refreshing = undefined;
      this.#lastRefresh = Date.now();
    });
    return this.#refreshing;
  }

  async #refreshOnce(): Promise<void> {
    const now = this.#deps.clock();
    const collections = (await this.#deps.store.listCollections()).map((c) => c.id).sort();
    const current = this.#compiled;
    if (current === undefined || current.collections.join('\n') !== collections.join('\n')) {
      this.#compiled = await this.#compile(collections, now);
    } else {
      if (this.#rebuild === undefined && (await current.loader.deletedSinceLoad())) {
        this.#rebuild = this.#compile(collections, now)
          .then((rebuilt) => {
            // Kept only if nothing replaced the matcher it was rebuilt from (a change of collections).
            if (this.#compiled === current) this.#compiled = rebuilt;
          })
          .catch((error: unknown) => this.#deps.onError?.('rebuild indicators', error))
          .finally(() => (this.#rebuild = undefined));
      }
      this.#tellOverLimit(await current.loader.refresh({ now }));
    }
    await this.#feedStoredObservedData(collections, now);
    await this.#closeWindows(this.#aggregator.windowOf(now.toISOString()) - 1);
  }

  async #compile(collections: readonly string[], now: Date): Promise<Compiled> {
    const matcher = new BulkMatcher({
      correlationSeconds: this.#windowSeconds,
      turnStepBudget: TURN_STEP_BUDGET,
      ...(this.#deps.onOverBudget === undefined ? {} : { onOverBudget: this.#deps.onOverBudget }),
    });
    const loader = new IndicatorLoader(this.#deps.store, collections, matcher, this.#sources, 'latest-of-each');
    this.#tellOverLimit(await loader.load({ now }));
    return { matcher, loader, collections };
  }

  #tellOverLimit(loaded: LoadedIndicators): void {
    if (loaded.overLimit.length > 0) this.#deps.onPatternOverLimit?.(loaded.overLimit);
  }

  /**
   * Observed-data added to a collection since the last refresh (a TAXII POST, an import) is matched
   * too, with the SCOs it refers to; what was stored before this matcher started is not. Only what the
   * home organisation wrote is its telemetry (home-written.ts): what a partner contributed (a TAXII
   * POST with a write grant, a push, a pull) would otherwise raise alerts and store sightings saying
   * the home organisation saw it, shared into circles signed by this node — whatever created_by_ref
   * it carries or leaves out. The observed-data of the node's own sightings (marked as their
   * evidence) is left out, and so is observed-data naming another organisation as its creator.
   * The store does not record which home token wrote it: it is matched with the rights every writer of
   * its collection has (collectionWriter), so that a TAXII POST stores and shares no sighting that
   * POST /api/observations would refuse the same token.
   */
  async #feedStoredObservedData(collections: readonly string[], now: Date): Promise<void> {
    for (const collectionId of collections) {
      let after = this.#observedCursors.get(collectionId);
      if (after === undefined) {
        // date_added is microseconds since the epoch: start from now.
        this.#observedCursors.set(collectionId, now.getTime() * 1000);
        continue;
      }
      for (;;) {
        const page = await this.#deps.store.listEntries(collectionId, { types: ['observed-data'], versions: [{ kind: 'all' }] }, { limit: 500, after });
        const lines: string[] = [];
        const candidates: { entry: StoredEntry; data: Record<string, unknown> }[] = [];
        for (const entry of page.entries) {
          after = Math.max(after, entry.dateAdded);
          const data = JSON.parse(entry.json) as Record<string, unknown>;
          // The evidence of sightings — this worker's, another worker's, `entente match`'s — was matched already.
          if (data[SIGHTING_EVIDENCE_PROPERTY] === true) continue;
          // Observations naming another organisation as their creator are not this node's, even if the
          // home wrote them (an operator's copy of a member's shared evidence).
          if (data['created_by_ref'] !== undefined && data['created_by_ref'] !== this.#deps.homeOrganisationId) continue;
          candidates.push({ entry, data });
        }
        // Read for the page at once: this runs for every observed-data the node stores.
        const homeWritten = await homeWrittenIn(this.#deps.store, collectionId, candidates.map(({ entry }) => entry));
        for (const [index, { data }] of candidates.entries()) {
          if (homeWritten[index] !== true) continue;
          const refs = Array.isArray(data['object_refs']) ? data['object_refs'].filter((r): r is string => typeof r === 'string').slice(0, 1000) : [];
          const scos = await this.#referencedIn(collectionId, refs);
          lines.push(JSON.stringify({ type: 'bundle', id: `bundle--${this.#deps.randomUuid()}`, objects: [data, ...scos] }));
        }
        this.#observedCursors.set(collectionId, after);
        if (lines.length > 0) {
          try {
            await this.#match(lines.join('\n'), `collection:${collectionId}`, collectionWriter(this.#deps.homeOrganisationId, collectionId));
          } catch (error) {
            this.#deps.onError?.('match stored observed-data', error);
          }
        }
        if (!page.more) break;
      }
    }
  }

  /**
   * The latest version, in the observed-data's own collection, of each object it refers to. Not the
   * latest any collection holds: an SCO's versions are its contents, and any writer of any collection
   * can post a content of an id whose key outranks the one stored beside the observed-data.
   */
  async #referencedIn(collectionId: string, refs: readonly string[]): Promise<unknown[]> {
    return [...(await latestEntriesIn(this.#deps.store, collectionId, refs)).values()].map((entry) => JSON.parse(entry.json) as unknown);
  }

  /**
   * Matches JSON lines of observations (the formats `entente match` reads as JSON lines). An alert is
   * published as soon as the line that opens it is matched (its sighting, built and validated then,
   * is stored when the batch ends); the text is matched in slices with a turn of the event loop
   * between them, so a long batch does not hold up other requests and their alerts.
   * `caller`: who posted the observations; absent, the node itself (reads and writes every collection).
   * An alert on an indicator it may not read is still published (the bus shows it to those who may read
   * it) but without a sighting, and is left out of the sighting counts: storing one would show the
   * caller the indicator's id and that it matched.
   */
  async matchLines(text: string, source: string, caller?: Recipient): Promise<ObservationsOutcome> {
    if (this.#compiled === undefined || Date.now() - this.#lastRefresh >= (this.#deps.onDemandMinMs ?? 250)) await this.#refreshInPlace();
    return this.#match(text, source, caller);
  }

  async #match(text: string, source: string, caller?: Recipient): Promise<ObservationsOutcome> {
    const compiled = this.#compiled;
    if (compiled === undefined) throw new Error('the node matcher was not started');
    // Read for each batch: a circle created over a collection since takes no more home sightings there.
    // Each circle's collection, and its default TLP that the sightings are marked at least at, from one read.
    const circleDefaults = new Map((await this.#deps.store.listCircles()).map((circle) => [circle.collectionId, circle.defaultTlp] as const));
    const circleCollections: ReadonlySet<string> = new Set(circleDefaults.keys());
    const homeSightings = await homeSightingsCollectionOf(this.#deps.store);
    const summary = emptySummary();
    const now = (): string => this.#deps.clock().toISOString();
    const reader = createObservationReader({ format: 'jsonl', source, now });
    const valid = (object: StixObject): boolean => validateForIngest(object).valid;
    const opened: OpenedAlert[] = [];
    const onAlert = (alert: Alert): void => {
      // The version matched, read as it matched (its window's): a refresh may compile a newer one before the alert is published.
      const version = alert.version;
      const basis = compiled.loader.basisOf(alert.indicatorId, alert.variant);
      // Its sighting is dated when the alert opens, and built once the version that matched is read (its markings).
      opened.push({ alert, version, opening: { ...alert }, openedAt: now(), basis });
    };
    await matchInput(slices(text), {
      source,
      reader,
      matcher: compiled.matcher,
      alerts: this.#aggregator,
      // The aggregator outlives a rebuild, which numbers variants afresh: windows are those of versions.
      versionOf: (match) => compiled.loader.versionOf(match.indicatorId, match.variant ?? 0),
      // A caller that stores no sighting, or stores it elsewhere, must not open the window of one that may, as for reads.
      scope: windowScope(compiled.collections, caller),
      summary,
      maxSamples: maxMalformedReported,
      ...(this.#deps.maxLineChars === undefined ? {} : { maxLineChars: this.#deps.maxLineChars }),
      onAlert,
    });
    // The latest version each collection holds of the indicators alerted, read once per batch: never
    // kept longer, so a version deleted, recalled or superseded in a collection no longer reaches that
    // collection's readers.
    const held = await this.#latestVersions([...new Set(opened.map(({ alert }) => alert.indicatorId))], compiled.collections);
    // The sighting and its observed-data are marked at least as strictly as the version that matched
    // (every collection holding that key holds the one content). A version no collection holds any
    // more stores no sighting (#publish): it is built marked TLP:RED all the same.
    // Nor below the default TLP of a circle holding it: unmarked, the indicator stands at it there.
    const holdings = opened.map(({ alert, version }) => (version === undefined ? [] : [...(held.get(alert.indicatorId) ?? [])].filter(([, latest]) => latest.version === version)));
    // The definitions of their markings that are not official TLP ids: a TLP definition of its own says its level.
    const wanted = definitionsWanted(holdings.map((holding) => holding[0]?.[1].object));
    const markingDefinitions = wanted.length === 0 ? undefined : await this.#deps.store.markingDefinitions(wanted);
    const sightings = opened.map(({ opening, openedAt }, index): Sighting => {
      const holding = holdings[index] ?? [];
      const indicator = holding[0]?.[1].object;
      const indicatorDefaultTlp = strictestCircleDefault(holding.map(([collectionId]) => collectionId), circleDefaults);
      const bundle = sightingObjects(
        opening,
        { homeOrganisationId: this.#deps.homeOrganisationId, now: openedAt, randomUuid: this.#deps.randomUuid, indicator, indicatorDefaultTlp, markingDefinitions },
        valid,
      );
      return valid(bundle.sighting) && (bundle.objects.length === 1 || valid(bundle.observedData)) ? bundle : 'invalid';
    });
    const published = await Promise.all(
      opened.map(({ alert, version, basis }, index) =>
        this.#publish(alert, version, sightings[index] ?? 'invalid', basis, audienceOf(version, held.get(alert.indicatorId)), { circleCollections, homeSightings }, caller),
      ),
    );
    const alerts = published.map((p) => p.alert);
    const toStore = published.flatMap((p) => (p.toStore === undefined ? [] : [p.toStore]));
    const invalidSightings = published.filter((p) => p.invalidSighting).length;
    const stored = await this.#storeSightings(toStore, caller);
    return {
      lines: summary.lines,
      observations: summary.observations,
      ignored: summary.ignored,
      malformed: summary.malformed,
      malformed_lines: summary.malformedSamples.map((m) => ({ line: m.line, reason: m.reason })),
      matches: summary.matches,
      sightings_stored: stored.ids.size,
      sightings_rejected: stored.rejected + invalidSightings,
      sightings_shared: stored.shared,
      ...(published.some((p) => p.noWriteGrant) ? { sightings_not_stored: 'no-write-grant' as const } : {}),
      alerts: alerts.map((alert) => (alert.sighting_id === null || stored.ids.has(alert.sighting_id) ? alert : { ...alert, sighting_id: null })),
      collections: published.map((p) => p.collections),
      newerIn: published.map((p) => p.newerIn),
      bases: published.map((p) => p.basis),
      versions: opened.map((o) => o.version),
    };
  }

  async #publish(
    alert: Alert,
    version: string | undefined,
    sighting: Sighting,
    basis: ConfidenceBasis | undefined,
    audience: Audience,
    places: { readonly circleCollections: ReadonlySet<string>; readonly homeSightings: string | undefined },
    caller: Recipient | undefined,
  ): Promise<Published> {
    const { holding, newerIn } = audience;
    // As canSeeAlert decides for the stream and the POST's answer; without a caller the observations
    // are the node's own (observed-data stored in a collection), which reads every collection. A
    // version no collection holds as its latest any more (deleted, recalled, superseded) leaves no sighting.
    const reads = (collectionId: string): boolean => caller === undefined || canReadCollection(caller, collectionId);
    const callerReads = holding.some(reads) && !newerIn.some(reads);
    // No collection holds a version unknown to the loader (holding is empty): callerReads implies one.
    const readable = callerReads && version !== undefined && sighting !== 'invalid' ? sighting : undefined;
    // Beside the indicator: a collection holding the version that matched, whose readers read it; or,
    // when only circles hold it, the home sightings collection (home-sighting-placement.ts). A sighting
    // stored nowhere at home still goes to the circles holding the version (their agreements and the caller's grants allowing).
    const mayWrite = caller === undefined ? undefined : (collectionId: string): boolean => canWriteCollection(caller, collectionId);
    const placed = placeHomeSighting(holding, places.circleCollections, mayWrite, places.homeSightings);
    const home = placed.beside;
    const homeIn = placed.storeIn;
    const sharesSomewhere = placed.sharesSomewhere;
    const bundle = readable !== undefined && (homeIn.length > 0 || sharesSomewhere) ? readable : undefined;
    const event = await this.#deps.bus.publish(
      { ...toAlertRecord(alert, bundle?.sighting.id), raised_at: this.#deps.clock().toISOString() },
      holding,
      basis,
      newerIn,
      version,
    );
    return {
      alert: event.alert,
      collections: holding,
      newerIn,
      basis,
      ...(bundle === undefined || version === undefined ? {} : { toStore: { alert, bundle, indicatorVersion: version, homeIn } }),
      invalidSighting: callerReads && sighting === 'invalid',
      // A version only circles hold has a home place too, the home sightings collection, which the caller
      // would have written with a write grant on one of those circles' collections.
      noWriteGrant: readable !== undefined && homeIn.length === 0 && (home.length > 0 || places.homeSightings !== undefined),
    };
  }

  /**
   * Who an alert raised earlier is for now (AlertEvent.collections and newerIn), read from the store
   * as each batch reads it: the collections whose latest version of the indicator is still the one
   * that matched (`event.version`), and those whose latest is newer and of its creator and origin. A
   * version recalled by its source partner, deleted, or superseded in a collection since the alert was
   * raised is no longer for that collection's readers: whatever sends an alert (the alert stream, live
   * or replayed, a webhook's every attempt, the POST's answer) asks this first, through an AudienceBatch
   * (audience-batch.ts) that reads once for the alerts of a turn. An event naming no version is for no one.
   *
   * For many events at once, in their order: the store is read once for all their indicators (as a
   * batch reads it), not once per event.
   */
  async audiencesNow(events: readonly Pick<AlertEvent, 'alert' | 'version'>[]): Promise<Pick<AlertEvent, 'collections' | 'newerIn'>[]> {
    const asked = events.filter((event) => event.version !== undefined);
    if (asked.length === 0) return events.map(() => ({ collections: [], newerIn: [] }));
    const collections = this.#compiled?.collections ?? (await this.#deps.store.listCollections()).map((c) => c.id).sort();
    const held = await this.#latestVersions([...new Set(asked.map((event) => event.alert.indicator_id))], collections);
    return events.map((event) => {
      const { holding, newerIn } = audienceOf(event.version, held.get(event.alert.indicator_id));
      return { collections: holding, newerIn };
    });
  }

  /**
   * collection → the latest version it holds of each indicator (revoked or not), who it names as its
   * creator and where it provably comes from (version-origin.ts): one read for the whole batch and
   * every collection (per 500 indicators), and three for the origins of every version read.
   */
  async #latestVersions(indicatorIds: readonly string[], collections: readonly string[]): Promise<ReadonlyMap<string, ReadonlyMap<string, LatestHeld>>> {
    const found = new Map<string, Map<string, LatestHeld>>();
    if (indicatorIds.length === 0) return found;
    const read: { collectionId: string; id: string; version: string; creator: string | undefined; createdBy: unknown; object: Readonly<Record<string, unknown>> }[] = [];
    const held = await this.#deps.store.latestEntriesByCollection(indicatorIds);
    // The compiled collections alone, in their order (a collection created since is not yet one its alerts are about).
    for (const collectionId of collections) {
      for (const [id, entry] of held.get(collectionId) ?? []) {
        if (entry.type !== 'indicator') continue;
        const object = JSON.parse(entry.json) as Readonly<Record<string, unknown>>;
        // `creator` folded to lower case for the lineage; `createdBy` as written, as the attribution rule compares it (readOrigins).
        read.push({ collectionId, id, version: entry.version, creator: lineageCreatorOf(object as { created_by_ref?: unknown }), createdBy: object['created_by_ref'], object });
      }
    }
    const originOf = await readOrigins(this.#deps.store, this.#deps.homeOrganisationId, read);
    for (const { collectionId, id, version, creator, object } of read) {
      const byCollection = found.get(id) ?? new Map<string, LatestHeld>();
      byCollection.set(collectionId, { version, creator, origin: originOf(collectionId, id, version), object });
      found.set(id, byCollection);
    }
    return found;
  }

  /**
   * Stores the sightings of a batch beside their indicators (one ingest per collection) and shares them
   * back where agreed; returns the ids stored at home. A sighting a collection refused is shared nowhere.
   */
  async #storeSightings(made: readonly ToStore[], caller: Recipient | undefined): Promise<{ ids: Set<string>; rejected: number; shared: number }> {
    const ids = new Set<string>();
    if (made.length === 0) return { ids, rejected: 0, shared: 0 };
    const byCollection = new Map<string, StixObject[]>();
    for (const { bundle, homeIn } of made) {
      for (const collectionId of homeIn) {
        const objects = byCollection.get(collectionId) ?? [];
        objects.push(...bundle.objects);
        byCollection.set(collectionId, objects);
      }
    }
    const rejectedIds = new Set<string>();
    for (const [collectionId, objects] of byCollection) {
      try {
        const result = await ingest(this.#deps.store, { collectionId, objects });
        for (const rejection of result.rejected) rejectedIds.add(rejection.id);
      } catch (error) {
        this.#deps.onError?.('store sightings', error);
        for (const object of objects) rejectedIds.add(object.id);
      }
    }
    const kept = made.filter(({ bundle }) => !rejectedIds.has(bundle.sighting.id) && !rejectedIds.has(bundle.observedData.id));
    const shared = await this.#shareBack(kept, caller);
    kept.forEach(({ alert, bundle, homeIn }, index) => {
      if (homeIn.length > 0) ids.add(bundle.sighting.id);
      this.#sightings.set(alert.key, { sighting: bundle.sighting, collectionIds: homeIn, shared: shared[index] ?? [] });
    });
    // Copies in a circle's collection the caller may not read are not counted: the count would tell it the circle holds the indicator.
    const told = (copy: SharedSighting): boolean => caller === undefined || canReadCollection(caller, copy.collectionId);
    return { ids, rejected: made.length - kept.length, shared: shared.reduce((sum, copies) => sum + copies.filter(told).length, 0) };
  }

  /** Copies of stored sightings in the circles that agreed to receive them; a failure here loses no sighting. */
  async #shareBack(sightings: readonly SightingToShare[], caller: Recipient | undefined): Promise<readonly (readonly SharedSighting[])[]> {
    const mayWrite = caller === undefined ? {} : { mayWrite: (collectionId: string) => canWriteCollection(caller, collectionId) };
    try {
      const outcome = await shareSightingsBack({ store: this.#deps.store, homeOrganisationId: this.#deps.homeOrganisationId, randomUuid: this.#deps.randomUuid, ...mayWrite }, sightings, this.#deps.clock());
      for (const rejection of outcome.rejected) this.#deps.onError?.('share a sighting back', new Error(`${rejection.id}: ${rejection.message}`));
      return outcome.shared;
    } catch (error) {
      this.#deps.onError?.('share sightings back', error);
      return sightings.map(() => []);
    }
  }

  /** Closes windows before `window` (all when undefined): a sighting whose count grew gets a new version. */
  async #closeWindows(window: number | undefined): Promise<void> {
    const closed = this.#aggregator.close(window);
    if (closed.length === 0) return;
    const byCollection = new Map<string, StixObject[]>();
    const now = this.#deps.clock();
    const add = (collectionId: string, object: StixObject): void => {
      const list = byCollection.get(collectionId) ?? [];
      list.push(object);
      byCollection.set(collectionId, list);
    };
    for (const alert of closed) {
      const held = this.#sightings.get(alert.key);
      this.#sightings.delete(alert.key);
      if (held === undefined) continue;
      const next = sightingWithFinalCounts(held.sighting, alert, now);
      if (next === undefined || !validateForIngest(next).valid) continue;
      for (const collectionId of held.collectionIds) add(collectionId, next);
      // The circles' copies carry the same counts: a member sees what this node saw in the window.
      for (const copy of held.shared) {
        const copyNext = sightingWithFinalCounts(copy.sighting, alert, now);
        if (copyNext !== undefined && validateForIngest(copyNext).valid) add(copy.collectionId, copyNext);
      }
    }
    for (const [collectionId, objects] of byCollection) {
      try {
        await ingest(this.#deps.store, { collectionId, objects });
      } catch (error) {
        this.#deps.onError?.('store final sighting counts', error);
      }
    }
  }
}

/**
 * The windows a caller's matches share (AlertAggregator.record's `scope`): callers that may read the
 * same collections and write the same collections (home sightings and circles' copies go only where
 * the caller may write) share them; '' for those that read and write them all (the administrator). A
 * window opened by a caller that may not read an indicator, or may not store its sighting where
 * another may, stores none there, so it must not be the window of a caller that may.
 */
function windowScope(collections: readonly string[], caller: Recipient | undefined): string {
  if (caller === undefined) return '';
  const readable = collections.filter((collectionId) => canReadCollection(caller, collectionId));
  const writable = collections.filter((collectionId) => canWriteCollection(caller, collectionId));
  if (readable.length === collections.length && writable.length === collections.length) return '';
  return `reads:${readable.join('\n')}\u0000writes:${writable.join('\n')}`;
}

/**
 * What observed-data stored in a collection is matched as: the store does not record which home
 * token wrote it (a TAXII POST, an import), only that the home did (home-written.ts), so it gets the
 * one right every writer of that collection has — writing it — and reading it, which shows a writer
 * that may not read nothing: its matches store a home sighting only beside an indicator that
 * collection holds, in that collection, and share a copy only into the circle that collection
 * carries, which its writer may write anyway. No more than POST /api/observations allows a token
 * with that grant; an indicator of another collection gets its alert (the bus), not a sighting.
 */
function collectionWriter(homeOrganisationId: string, collectionId: string): Recipient {
  return { name: `collection:${collectionId}`, organisationId: homeOrganisationId, admin: false, actsForHome: true, grants: [{ collectionId, read: true, write: true }] };
}

/**
 * Who an alert on this version of the indicator is for: the collections whose latest version it is,
 * and those whose latest is newer and provably of the same origin and creator. Not the collections
 * holding it at all: one whose latest is newer gives its readers the newer version's alerts, and one
 * holding an older version only must not show its readers this one's name or pattern. `held`: the
 * batch's read of this indicator (#latestVersions).
 */
function audienceOf(version: string | undefined, held: ReadonlyMap<string, LatestHeld> | undefined): Audience {
  // No version known (not compiled by this loader): no collection is taken to hold it.
  if (version === undefined || held === undefined) return { holding: [], newerIn: [] };
  const holding: string[] = [];
  // The same key only: another key at the same instant is another content (load-indicators.ts), compiled apart.
  for (const [collectionId, { version: key }] of held) if (key === version) holding.push(collectionId);
  // None holding it: no one is shown the alert, and no newer version needs telling.
  const matched = holding.map((collectionId) => held.get(collectionId)).filter((h): h is LatestHeld => h !== undefined);
  const first = matched[0];
  if (first === undefined) return { holding, newerIn: [] };
  // The store keeps one content per key (one creator); its origin may be recorded per collection
  // (contributors): collections that disagree leave it unknown.
  const origin = matched.every((m) => m.origin === first.origin) ? first.origin : undefined;
  const newerIn: string[] = [];
  // Only its creator versions an object (STIX 2.1), and created_by_ref is authenticated only for
  // organisations with pinned keys: a newer version suppresses this one only when the store proves both
  // come from the same organisation. Any writer of some collection could otherwise plant one, copying
  // the genuine reference or leaving it out, to blind every reader of both collections.
  if (origin === undefined) return { holding, newerIn };
  for (const [collectionId, { version: key, creator, origin: newerOrigin }] of held) {
    if (key !== version && creator === first.creator && newerOrigin === origin && compareVersions(key, version) > 0) newerIn.push(collectionId);
  }
  return { holding, newerIn };
}

