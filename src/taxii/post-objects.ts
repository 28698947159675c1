import { homeSightingsCollectionOf } from '../bootstrap-node.ts';
import { EntenteError } from '../errors/entente-error.ts';
import type { Recipient } from '../policy/recipient.ts';
import type { ObjectStore, StatusDetail } from '../store/object-store.ts';
import { ingest } from '../store/ingest.ts';
import type { JsonValue, StixObject } from '../stix/types.ts';
import { isValidatedStixObject } from '../stix/validate.ts';
import { validateForIngest } from '../store/validate-for-ingest.ts';
import { parseEnvelope } from './parse-envelope.ts';
import { openReleaseGate } from '../release/open-release-gate.ts';
import { isEntenteSender, receivePush } from '../federation/receive-push.ts';
import { creatorRefusalOf, loadPinnedOrganisations } from './creator-signature.ts';
import { releasedDetails } from './released-details.ts';
import { failuresFor } from './status-failures.ts';
import { toStatusResource, type StatusResource } from './taxii-resources.ts';

export interface PostObjectsInput {
  readonly collectionId: string;
  readonly body: unknown;
  readonly tokenName: string;
  readonly recipient: Recipient;
}

/** Adds the objects of one POSTed envelope and returns the status resource of the request. */
export type ObjectsPost = (input: PostObjectsInput) => Promise<StatusResource>;

export interface ObjectsPostDeps {
  readonly store: ObjectStore;
  readonly clock: () => Date;
  readonly randomUuid: () => string;
  /**
   * The home organisation: its own keys verify its versions coming back through a partner, and a
   * partner never writes its identity or an object it created without its signature.
   */
  readonly homeOrganisationId?: string;
}

function stringProperty(value: JsonValue, name: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const property = value[name];
  return typeof property === 'string' ? property : undefined;
}

/**
 * What a status failure says about an invalid item: its id and version as far as they can be read
 * (an item without a string id is named by its position), and the validator's errors with their paths.
 */
export function describeInvalidItem(item: JsonValue, index: number, messages: readonly string[]): StatusDetail {
  return {
    id: stringProperty(item, 'id') ?? `$.objects[${index}]`,
    version: stringProperty(item, 'modified') ?? stringProperty(item, 'created') ?? '',
    message: messages.join('; '),
  };
}

/**
 * Validation happens here, before the store: invalid items become status failures carrying the
 * validator's reasons, valid ones are added in one transaction together with the status record, so
 * the 202 answer never names an object that is not stored. Re-posting the same envelope is
 * idempotent: the store reports duplicates as successes.
 */
export function createObjectsPost(deps: ObjectsPostDeps): ObjectsPost {
  return async (input) => {
    await refuseNodeWrittenCollection(deps.store, input.collectionId);
    const envelope = parseEnvelope(input.body as JsonValue | undefined);
    if (!envelope.ok) throw new EntenteError(envelope.error.code, envelope.error.message);
    const statusId = deps.randomUuid();
    const now = deps.clock();
    const status = { statusId, requestTimestamp: now.toISOString(), tokenName: input.tokenName, validationFailures: [] };
    // A partner's objects arrive under an agreement: every one through the arrival checks when it is
    // another Entente node (its organisation has pinned keys) or writes into a circle's collection.
    // A plain client (no pinned keys) into a collection of no circle has no agreement to answer to.
    const sender = input.recipient.actsForHome ? undefined : input.recipient.organisationId;
    const senderKind =
      sender === undefined ? undefined
      : (await isEntenteSender(deps.store, sender)) ? 'entente'
      : (await deps.store.getCircleByCollection(input.collectionId)) !== undefined ? 'plain'
      : undefined;
    if (sender !== undefined && senderKind !== undefined) {
      await receivePush(
        { store: deps.store, homeOrganisationId: deps.homeOrganisationId },
        { collectionId: input.collectionId, sender, senderKind, items: envelope.value, status, now },
      );
      return statusResourceOf(deps, input, statusId, now);
    }
    const valid: StixObject[] = [];
    const failures: StatusDetail[] = [];
    // A home token's writes are the home organisation's own: its users record what they hold under
    // whatever creator they received it from (as `entente import` does), and what the node releases
    // of them carries the home organisation's signature, so every peer judges that attribution as
    // the home organisation's word. A partner here passes no arrival checks, so it may speak for an
    // organisation whose keys are pinned only with that organisation's signature (creator-signature.ts).
    const pinned = sender === undefined ? undefined : await loadPinnedOrganisations(deps.store, deps.homeOrganisationId);
    envelope.value.forEach((item, index) => {
      const report = validateForIngest(item, `$.objects[${index}]`);
      if (isValidatedStixObject(item, report)) {
        // The store keys everything on id and type; never hand it an object without them, whatever
        // the validator's coverage.
        if (typeof item.id !== 'string' || typeof item.type !== 'string') {
          failures.push(describeInvalidItem(item, index, [`$.objects[${index}]: an object needs string "type" and "id" properties`]));
        } else {
          const refusal = pinned === undefined ? undefined : creatorRefusalOf(item, pinned, now);
          if (refusal === undefined) valid.push(item);
          else failures.push(describeInvalidItem(item, index, [`$.objects[${index}]: refused (${refusal.reason}): ${refusal.message}`]));
        }
      } else {
        const errors = report.issues.filter((issue) => issue.severity === 'error');
        failures.push(describeInvalidItem(item, index, errors.map((issue) => `${issue.path}: ${issue.message} (${issue.code})`)));
      }
    });
    await ingest(deps.store, {
      collectionId: input.collectionId,
      objects: valid,
      status: { ...status, validationFailures: failures },
      ...(input.recipient.actsForHome ? {} : { contributorOrganisationId: input.recipient.organisationId }),
    });
    return statusResourceOf(deps, input, statusId, now);
  };
}

/**
 * The home sightings collection (bootstrap-node.ts) is the node's own record of what its matcher saw:
 * only the node writes it (its matcher, and `entente match` or `entente import` run by the operator),
 * never a TAXII POST, whatever the token — a write grant on it, an administrator. A sighting there
 * reads to every analyst granted the collection as the home's own (created_by_ref and
 * where_sighted_refs are anyone's to write), and evidence is released with the sighting written with
 * it (release/home-sightings-gate.ts): the store cannot tell a home token's write from the node's
 * (both are the home organisation's originals), so it is refused before anything is read or stored.
 * A sighting an analyst records by hand belongs beside its indicator, in a collection it may write.
 */
async function refuseNodeWrittenCollection(store: ObjectStore, collectionId: string): Promise<void> {
  if (collectionId !== (await homeSightingsCollectionOf(store))) return;
  throw new EntenteError(
    'ENT_COLLECTION_NOT_WRITABLE',
    `Collection ${collectionId} is the home sightings collection: only this node writes it (its matcher's sightings and their evidence), no TAXII client; store a sighting of your own beside its indicator, in a collection you may write`,
    { collection_id: collectionId },
  );
}

/**
 * The status resource of a POST as its sender may see it: successes and pendings pass the release
 * decision, and the store's refusals keep their reason only for a sender who reads every collection
 * holding the id (status-failures.ts).
 */
async function statusResourceOf(deps: ObjectsPostDeps, input: PostObjectsInput, statusId: string, now: Date): Promise<StatusResource> {
  const record = await deps.store.getStatus(statusId);
  if (record === undefined) throw new EntenteError('ENT_STORE_UNAVAILABLE', `The store did not record status ${statusId}`);
  const gate = await openReleaseGate(deps.store, input.recipient, input.collectionId, now, { audit: false });
  return toStatusResource(
    { ...record, failures: await failuresFor(record.failures, input.recipient, deps.store) },
    await releasedDetails(record.successes, deps.store, gate, input.collectionId),
    await releasedDetails(record.pendings, deps.store, gate, input.collectionId),
  );
}
