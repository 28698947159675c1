import { Command, Option } from 'commander';
import { createReadStream, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { CliIo, NodeLocationOptions } from '../cli-context.ts';
import { withNode, writeLine } from '../cli-context.ts';
import { EntenteError } from '../../errors/entente-error.ts';
import { findCollection, homeSightingsCollectionOf } from '../../bootstrap-node.ts';
import { ingest } from '../../store/ingest.ts';
import { validateForIngest } from '../../store/validate-for-ingest.ts';
import type { StixObject } from '../../stix/types.ts';
import { BulkMatcher } from '../../correlate/bulk-matcher.ts';
import { AlertAggregator, toAlertRecord, type Alert } from '../../correlate/alert-aggregator.ts';
import { parseCsvMapping, type CsvColumnMapping } from '../../correlate/csv-observations.ts';
import { followFile } from '../../correlate/follow-file.ts';
import { IndicatorLoader, type LoadedIndicators } from '../../correlate/load-indicators.ts';
import { emptySummary, matchInput, type MatchSummary } from '../../correlate/match-input.ts';
import { createObservationReader, logFormats, type LogFormat } from '../../correlate/read-observations.ts';
import { shareSightingsBack } from '../../correlate/share-sightings.ts';
import { placeHomeSighting } from '../../correlate/home-sighting-placement.ts';
import { definitionsWanted, sightingObjects, strictestCircleDefault, type SightingContext } from '../../correlate/sighting-objects.ts';

interface MatchOptions extends NodeLocationOptions {
  format: LogFormat;
  map: string[];
  collection: string[];
  sightingsCollection?: string;
  window: string;
  follow?: boolean;
  untilIdle?: string;
  refresh: string;
  store: boolean;
  json?: boolean;
  maxLineBytes: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
/** Alerts opened before the store flushes a batch of sightings. */
const sightingBatch = 500;

function positiveNumber(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new EntenteError('ENT_CLI_USAGE', `${flag} must be a positive number, got "${text}"`);
  return value;
}

export function matchCommand(io: CliIo): Command {
  return new Command('match')
    .description("match telemetry against the node's active indicators: print alerts, store sightings")
    .argument('<inputs...>', 'log files (JSON lines of observables, Zeek TSV/JSON, Suricata EVE, CSV), or - for standard input')
    .addOption(new Option('--format <format>', 'input format; auto decides per input from its first line').choices([...logFormats]).default('auto'))
    .option('--map <column=type:path,…>', "CSV column mapping, e.g. src=ipv4-addr:value,sha=file:hashes.'SHA-256',time=@timestamp (repeatable)", collect, [])
    .option('--collection <id>', 'take indicators from this collection, id or alias (repeatable; default: every collection)', collect, [])
    .option('--sightings-collection <id>', 'with --collection naming this collection alone: store sightings only in it (default: beside each indicator, or in home-sightings when only circles hold it)')
    .option('--window <seconds>', 'alerts are deduplicated per indicator, observable and window of this many seconds', '3600')
    .option('--follow', 'keep reading each file as it grows (tail -F); stop with Ctrl-C')
    .option('--until-idle <seconds>', 'with --follow: stop once no input has grown for this long')
    .option('--refresh <seconds>', 'with --follow: take in indicators added, superseded or revoked in the store this often', '10')
    .option('--no-store', 'print alerts only; store no sightings')
    .option('--json', 'print the summary on standard error as one JSON object')
    .option('--max-line-bytes <n>', 'longer lines are skipped and reported as malformed', String(1024 * 1024))
    .option('--data <dir>', 'data directory (env ENTENTE_DATA)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ entente match /var/log/zeek/current/{conn,dns,http,files,ssl,x509}.log\n' +
        '  $ entente match eve.json --collection partner-feed --no-store | jq .indicator_id\n' +
        "  $ entente match flows.csv --map 'src=ipv4-addr:value,dst=ipv4-addr:value,time=@timestamp'\n" +
        '  $ entente match --follow /var/log/suricata/eve.json\n\n' +
        'A sighting, with its evidence (observed-data and the observables holding the matched value), is stored beside\n' +
        'its indicator: in each collection whose latest version of the indicator is the one that matched and that\n' +
        'carries no circle, whose readers read the indicator: in the default collection only when it holds the indicator,\n' +
        "never in a circle's. A version held by circles alone (received from partners) has its home sighting stored in\n" +
        'the home sightings collection (alias home-sightings): shared with no one, read only by tokens granted it\n' +
        '(entente token create --collections home-sightings:r); docs/federation.md, "Home sightings".\n' +
        "Sightings of a circle's indicator are also put into that circle's collection when its agreement says\n" +
        'sighting_sharing: summary or evidence (docs/federation.md, "Sightings shared back"); the next sync releases them.\n' +
        'Alerts go to standard output, one JSON line each: indicator_id, indicator_name, observable, first_seen,\n' +
        'last_seen, count, confidence (effective: stated, raised by sightings from other organisations, lowered by\n' +
        'false-positive reports and age), severity, the input and line of the first match, and the sighting stored.\n' +
        'Without --follow they are printed when the input ends, with their final counts; with --follow as soon as they\n' +
        'fire (count 1 then; the stored sighting carries the final count when the window closes).\n' +
        'The summary (lines, observations, malformed lines with their numbers, matches, alerts) goes to standard error.\n\n' +
        'Exit status: 0 when every input was read to its end, whether or not anything matched (malformed lines are\n' +
        'reported, not fatal); 1 when an input could not be read or a sighting was refused by the store; 2 on a usage error.',
    )
    .action(async (inputs: string[], options: MatchOptions) => {
      const windowSeconds = positiveNumber(options.window, '--window');
      const maxLineChars = Math.floor(positiveNumber(options.maxLineBytes, '--max-line-bytes'));
      const idleSeconds = options.untilIdle === undefined ? undefined : positiveNumber(options.untilIdle, '--until-idle');
      const refreshSeconds = positiveNumber(options.refresh, '--refresh');
      let csvMapping: CsvColumnMapping[] | undefined;
      if (options.map.length > 0) {
        const parsed = parseCsvMapping(options.map);
        if (typeof parsed === 'string') throw new EntenteError('ENT_MATCH_MAPPING_INVALID', `--map: ${parsed}`);
        csvMapping = parsed;
      }
      if (options.format === 'csv' && csvMapping === undefined) throw new EntenteError('ENT_CLI_USAGE', '--format csv needs --map column=type:path,…');
      if (options.follow === true && inputs.includes('-')) throw new EntenteError('ENT_CLI_USAGE', '--follow reads files; standard input is read as it comes anyway');
      for (const input of inputs) {
        if (input === '-') continue;
        try {
          if (!statSync(input).isFile()) throw new EntenteError('ENT_INPUT_UNREADABLE', `${input} is not a file`);
        } catch (cause) {
          if (cause instanceof EntenteError) throw cause;
          throw new EntenteError('ENT_INPUT_UNREADABLE', `cannot read ${input}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
        }
      }

      await withNode(io, options, async (node) => {
        const collections = [];
        if (options.collection.length === 0) collections.push(...(await node.store.listCollections()));
        for (const name of options.collection) {
          const found = await findCollection(node.store, name);
          if (found === undefined) throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `no collection "${name}" (see entente collection list)`);
          collections.push(found);
        }
        // Absent: each home sighting goes beside its indicator (placeHomeSighting). Given: only there, and
        // only when the indicators all come from it, so that its readers read every indicator sighted.
        let sightingsCollection: string | undefined;
        if (options.sightingsCollection !== undefined) {
          const found = await findCollection(node.store, options.sightingsCollection);
          if (found === undefined) throw new EntenteError('ENT_COLLECTION_NOT_FOUND', `no collection "${options.sightingsCollection}" (see entente collection list)`);
          // The home sighting names its observed-data (internal addresses…): stored in a circle's collection
          // it would go to the members whatever the agreement says. Circles get the copy their terms allow.
          const circle = await node.store.getCircleByCollection(found.id);
          if (circle !== undefined) {
            throw new EntenteError(
              'ENT_CLI_USAGE',
              `--sightings-collection ${found.id} carries circle ${circle.id}; sightings are stored at home and go into a circle only as its agreement allows (sighting_sharing)`,
            );
          }
          // A sighting names its indicator and its evidence holds the matched value: stored where the
          // indicator is not, it would show them to readers who may not read the indicator (a TLP:RED one).
          if (options.collection.length === 0 || collections.some((c) => c.id !== found.id)) {
            throw new EntenteError(
              'ENT_CLI_USAGE',
              `--sightings-collection ${found.id} would hold sightings of indicators taken from other collections, shown to its readers who may not read them; ` +
                `add --collection ${found.id} to match its indicators alone, or leave --sightings-collection out to store each sighting beside its indicator`,
            );
          }
          sightingsCollection = found.id;
        }

        const matcher = new BulkMatcher({ correlationSeconds: windowSeconds });
        // The home organisation's own originals are one origin: its newer version of one replaces the older.
        const loader = new IndicatorLoader(node.store, collections.map((c) => c.id), matcher, undefined, 'newest', node.identity.homeOrganisation.id);
        const describeLoad = (loaded: LoadedIndicators, what: string): string => {
          const refused = [...loaded.refused].map(([reason, count]) => `${count} ${reason}`).join(', ');
          return (
            `match: ${loaded.added} ${what} (${loaded.byMode.exact} by index alone, ${loaded.byMode.evaluated} evaluated on candidates, ${loaded.byMode.always} evaluated on every observation)` +
            (refused === '' ? '' : `; left out: ${refused}`)
          );
        };
        writeLine(io.stderr, describeLoad(await loader.load({ now: new Date() }), `active indicators from ${collections.length} collection(s)`));

        const home = node.identity.homeOrganisation.id;
        const alerts = new AlertAggregator(windowSeconds);
        const summary = emptySummary();
        const stored = { sightings: 0, rejected: 0, shared: 0 };
        const follow = options.follow === true;

        // The version each open alert matched, recorded as it opens: while following, a refresh may
        // compile a newer version before the window closes, and a sighting goes only into the circles
        // whose latest version is the one that matched (shareSightingsBack).
        const matchedVersions = new Map<string, string | undefined>();

        const printAlert = (alert: Alert, sightingId: string | undefined): void => {
          writeLine(io.stdout, JSON.stringify(toAlertRecord(alert, sightingId)));
        };

        const storeSightings = async (closed: readonly Alert[]): Promise<(string | undefined)[]> => {
          if (!options.store || closed.length === 0) return closed.map(() => undefined);
          const now = new Date().toISOString();
          const refuse = (object: StixObject): boolean => {
            const report = validateForIngest(object);
            if (report.valid) return false;
            const issue = report.issues.find((i) => i.severity === 'error');
            writeLine(io.stderr, `match: not stored: ${object.id}: ${issue?.path ?? ''} ${issue?.message ?? ''}`);
            return true;
          };
          // Where each goes: read for each batch, since a version may be superseded, deleted or recalled,
          // and a circle created over a collection, while following.
          // Each circle's collection and default TLP, from one read of the circles.
          const circleDefaults = new Map((await node.store.listCircles()).map((circle) => [circle.collectionId, circle.defaultTlp] as const));
          const circleCollections: ReadonlySet<string> = new Set(circleDefaults.keys());
          const homeSightings = await homeSightingsCollectionOf(node.store);
          const latest = await node.store.latestEntriesByCollection([...new Set(closed.map((alert) => alert.indicatorId))]);
          // The version that matched, as stored: its sighting and observed-data carry its markings (never
          // below them: a sighting of a TLP:RED indicator is TLP:RED). Not held any more: stored nowhere.
          // Nor below the default TLP of a circle holding it: unmarked, the indicator stands at it there.
          // `holding`: the collections whose latest version of it is the one that matched.
          const matchedIndicator = (alert: Alert): Pick<SightingContext, 'indicator' | 'indicatorDefaultTlp'> & { holding: string[] } => {
            const version = matchedVersions.get(alert.key);
            let indicator: Record<string, unknown> | undefined;
            const holding: string[] = [];
            for (const [collectionId, entries] of latest) {
              const entry = entries.get(alert.indicatorId);
              if (version === undefined || entry?.type !== 'indicator' || entry.version !== version) continue;
              indicator ??= JSON.parse(entry.json) as Record<string, unknown>;
              holding.push(collectionId);
            }
            return { indicator, indicatorDefaultTlp: strictestCircleDefault(holding, circleDefaults), holding };
          };
          const matched = closed.map((alert) => matchedIndicator(alert));
          // The definitions of their markings that are not official TLP ids: a TLP definition of its own says its level.
          const wanted = definitionsWanted(matched.map(({ indicator }) => indicator));
          const markingDefinitions = wanted.length === 0 ? undefined : await node.store.markingDefinitions(wanted);
          // An SCO the validator refuses (a log's odd domain name…) is left out of the observed-data.
          const made = closed.map((alert, index) => {
            const { indicator, indicatorDefaultTlp } = matched[index] ?? {};
            return sightingObjects(alert, { homeOrganisationId: home, now, randomUuid: randomUUID, indicator, indicatorDefaultTlp, markingDefinitions }, (sco) => !refuse(sco));
          });
          const placements = matched.map(({ holding }) => {
            // The operator writes every collection: a version held by circles alone goes into the home sightings collection.
            const placed = placeHomeSighting(holding, circleCollections, undefined, homeSightings);
            return sightingsCollection === undefined ? placed : { ...placed, storeIn: placed.storeIn.filter((id) => id === sightingsCollection) };
          });
          const byCollection = new Map<string, StixObject[]>();
          const rejectedIds = new Set<string>();
          made.forEach((bundle, index) => {
            const storeIn = placements[index]?.storeIn ?? [];
            const objects: StixObject[] = [];
            for (const object of bundle.objects) {
              if (object.type !== 'observed-data' && object.type !== 'sighting') objects.push(object);
              else if (refuse(object)) {
                rejectedIds.add(object.id);
                stored.rejected++;
                writeLine(io.stderr, `entente: ENT_MATCH_SIGHTING_REJECTED: ${object.id} failed validation`);
              } else objects.push(object);
            }
            for (const collectionId of storeIn) {
              const list = byCollection.get(collectionId) ?? [];
              list.push(...objects);
              byCollection.set(collectionId, list);
            }
          });
          for (const [collectionId, objects] of byCollection) {
            const result = await ingest(node.store, { collectionId, objects });
            for (const rejection of result.rejected) {
              if (rejectedIds.has(rejection.id)) continue;
              rejectedIds.add(rejection.id);
              stored.rejected++;
              writeLine(io.stderr, `entente: ENT_MATCH_SIGHTING_REJECTED: ${rejection.id}: ${rejection.message} [${rejection.code}]`);
            }
          }
          // A version held by circles' collections alone is recorded in the home sightings collection, and the circles get their copies.
          const kept = closed.flatMap((alert, index) => {
            const bundle = made[index];
            const placed = placements[index];
            const indicatorVersion = matchedVersions.get(alert.key);
            if (bundle === undefined || placed === undefined || indicatorVersion === undefined || rejectedIds.has(bundle.sighting.id)) return [];
            return placed.storeIn.length > 0 || placed.sharesSomewhere ? [{ bundle, indicatorVersion }] : [];
          });
          // Into the indicator's circles holding that version whose agreements allow it; a sync then releases them through the gate.
          const sharing = await shareSightingsBack({ store: node.store, homeOrganisationId: home, randomUuid: randomUUID }, kept, new Date());
          stored.shared += sharing.shared.reduce((sum, copies) => sum + copies.length, 0);
          for (const rejection of sharing.rejected) writeLine(io.stderr, `match: not shared: ${rejection.id}: ${rejection.message}`);
          return made.map((bundle, index) => {
            if (rejectedIds.has(bundle.sighting.id) || (placements[index]?.storeIn.length ?? 0) === 0) return undefined;
            stored.sightings++;
            return bundle.sighting.id;
          });
        };

        /** Closes the windows before `window` (all when undefined): stores their sightings, prints their alerts. */
        const closeWindows = async (window?: number): Promise<void> => {
          const closed = alerts.close(window);
          for (let start = 0; start < closed.length; start += sightingBatch) {
            const batch = closed.slice(start, start + sightingBatch);
            const ids = await storeSightings(batch);
            for (const alert of batch) matchedVersions.delete(alert.key);
            if (!follow) batch.forEach((alert, i) => printAlert(alert, ids[i]));
          }
        };

        const abort = new AbortController();
        const stop = (): void => abort.abort();
        let lastGrowth = Date.now();
        let idleTimer: NodeJS.Timeout | undefined;
        let refreshTimer: NodeJS.Timeout | undefined;
        if (follow) {
          // Indicators added, superseded or revoked while following are taken in without a restart.
          let refreshing = false;
          refreshTimer = setInterval(() => {
            if (refreshing) return;
            refreshing = true;
            loader
              .refresh({ now: new Date() })
              .then((loaded) => {
                if (loaded.added > 0 || loaded.refused.size > 0) writeLine(io.stderr, describeLoad(loaded, 'indicators updated'));
              })
              .catch((error: unknown) => writeLine(io.stderr, `match: cannot refresh indicators: ${(error as Error).message}`))
              .finally(() => (refreshing = false));
          }, refreshSeconds * 1000);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          if (idleSeconds !== undefined) {
            idleTimer = setInterval(() => {
              if (Date.now() - lastGrowth >= idleSeconds * 1000) stop();
            }, Math.min(250, idleSeconds * 1000));
          }
        }
        const observedNow = (): string => new Date().toISOString();
        const runInput = async (input: string): Promise<void> => {
          const source = input === '-' ? '-' : input;
          const reader = createObservationReader({ format: options.format, source, csvMapping, now: observedNow });
          let chunks: AsyncIterable<string | Buffer>;
          if (input === '-') chunks = io.stdin as AsyncIterable<string | Buffer>;
          else if (follow) {
            const followed = followFile(input, { signal: abort.signal });
            chunks = (async function* () {
              for await (const chunk of followed) {
                lastGrowth = Date.now();
                yield chunk;
              }
            })();
          } else chunks = createReadStream(input, { highWaterMark: 1024 * 1024 });
          await matchInput(chunks, {
            source,
            reader,
            matcher,
            alerts,
            summary,
            maxLineChars,
            // Without --follow an alert is printed when its window closes, with its final count.
            onAlert: (alert) => {
              matchedVersions.set(alert.key, loader.versionOf(alert.indicatorId, alert.variant));
              if (follow) printAlert(alert, undefined);
            },
            // Windows more than one window behind the newest observation are closed: their counts are final.
            onProgress: async (latest) => {
              if (follow || alerts.size > 100_000) await closeWindows(alerts.windowOf(latest) - 1);
            },
          });
        };
        try {
          if (follow) await Promise.all(inputs.map(runInput));
          else for (const input of inputs) await runInput(input);
        } finally {
          if (idleTimer !== undefined) clearInterval(idleTimer);
          if (refreshTimer !== undefined) clearInterval(refreshTimer);
          process.removeListener('SIGINT', stop);
          process.removeListener('SIGTERM', stop);
        }
        await closeWindows();
        reportSummary(io, summary, stored, inputs.length, options.json === true);
        if (stored.rejected > 0) io.outcome.partialFailure = true;
      });
    });
}

function reportSummary(io: CliIo, summary: MatchSummary, stored: { sightings: number; rejected: number; shared: number }, inputs: number, json: boolean): void {
  if (json) {
    writeLine(io.stderr, JSON.stringify({ inputs, ...summary, sightings_stored: stored.sightings, sightings_rejected: stored.rejected, sightings_shared: stored.shared }));
    return;
  }
  writeLine(
    io.stderr,
    `match: ${inputs} input(s), ${summary.lines} lines, ${summary.observations} observations, ${summary.malformed} malformed` +
      (summary.overlong > 0 ? ` (${summary.overlong} over-long)` : '') +
      `, ${summary.ignored} ignored; ${summary.matches} matches → ${summary.alerts} alerts, ${stored.sightings} sightings stored` +
      (stored.shared > 0 ? `, ${stored.shared} shared into circles` : ''),
  );
  for (const sample of summary.malformedSamples) writeLine(io.stderr, `malformed: ${sample.source} line ${sample.line}: ${sample.reason}`);
  if (summary.malformed > summary.malformedSamples.length) writeLine(io.stderr, `malformed: … and ${summary.malformed - summary.malformedSamples.length} more`);
}
