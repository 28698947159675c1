import type { ErrorCode } from '../errors/catalogue.ts';
import type { StixObject } from '../stix/types.ts';
import type { AddOptions, AddOutcome, DraftPublicationRecord, ObjectStore, StatusDraft } from './object-store.ts';
import { textOf, type PreparedVersion } from './prepared-version.ts';

export interface IngestRejection {
  readonly id: string;
  readonly version: string;
  /** ENT_OBJECT_INVALID for what validation refused (from the status draft), else the store's reason. */
  readonly code: ErrorCode;
  readonly message: string;
}

export interface IngestResult {
  /** Versions newly added to the collection. */
  readonly accepted: number;
  /** Versions the collection already held with the same content: successes, per TAXII. */
  readonly duplicate: number;
  readonly rejected: readonly IngestRejection[];
  /** The store's outcomes, in input order, for callers that report per object. */
  readonly outcomes: readonly AddOutcome[];
}

export interface IngestRequest {
  readonly collectionId: string;
  /** Objects that already passed validateForIngest. */
  readonly objects: readonly StixObject[];
  /** Present for TAXII POST (its status resource); the CLI import may leave it out. */
  readonly status?: StatusDraft;
  /** The partner organisation that sent the objects (a partner's TAXII POST); absent for the home organisation. */
  readonly contributorOrganisationId?: string;
  /** Every object or none (AddOptions): then `accepted` and `duplicate` are 0 whenever one is rejected. */
  readonly allOrNothing?: boolean;
  /** The draft publication these objects make, recorded with them or not at all (AddOptions.publishesDraft). */
  readonly publishesDraft?: DraftPublicationRecord;
}

/**
 * The one way objects enter a collection, shared by TAXII POST and the CLI import, so that both
 * count, deduplicate and reject the same way. Objects and status are stored in one transaction.
 */
export async function ingest(store: ObjectStore, request: IngestRequest): Promise<IngestResult> {
  const outcomes = await store.addObjects(request.collectionId, request.objects, request.status, request.contributorOrganisationId, addOptionsOf(request));
  return summarise(outcomes, request.status);
}

function addOptionsOf(request: Pick<IngestRequest, 'allOrNothing' | 'publishesDraft'>): AddOptions | undefined {
  if (request.allOrNothing !== true && request.publishesDraft === undefined) return undefined;
  return { ...(request.allOrNothing === true ? { allOrNothing: true } : {}), ...(request.publishesDraft === undefined ? {} : { publishesDraft: request.publishesDraft }) };
}

export interface PreparedIngestRequest extends Omit<IngestRequest, 'objects'> {
  /** Versions of objects that already passed validateForIngest, serialised by prepareVersion. */
  readonly versions: readonly PreparedVersion[];
}

/** A store that can write versions serialised elsewhere (SQLite), without rebuilding the objects. */
export interface PreparedVersionStore {
  addPreparedVersions(collectionId: string, versions: readonly PreparedVersion[], status?: StatusDraft, contributorOrganisationId?: string, options?: AddOptions): Promise<AddOutcome[]>;
}

function acceptsPreparedVersions(store: ObjectStore): store is ObjectStore & PreparedVersionStore {
  return typeof (store as Partial<PreparedVersionStore>).addPreparedVersions === 'function';
}

/** ingest() for versions prepared by prepareVersion (an import's worker thread): same counting and outcomes. */
export async function ingestPrepared(store: ObjectStore, request: PreparedIngestRequest): Promise<IngestResult> {
  const outcomes = acceptsPreparedVersions(store)
    ? await store.addPreparedVersions(request.collectionId, request.versions, request.status, request.contributorOrganisationId, addOptionsOf(request))
    : await store.addObjects(
        request.collectionId,
        request.versions.map((version) => JSON.parse(textOf(version.json)) as StixObject),
        request.status,
        request.contributorOrganisationId,
        addOptionsOf(request),
      );
  return summarise(outcomes, request.status);
}

function summarise(outcomes: AddOutcome[], status: StatusDraft | undefined): IngestResult {
  let accepted = 0;
  let duplicate = 0;
  const rejected: IngestRejection[] = (status?.validationFailures ?? []).map((failure) => ({
    id: failure.id,
    version: failure.version,
    code: 'ENT_OBJECT_INVALID',
    message: failure.message ?? 'the object is not valid STIX 2.1',
  }));
  for (const outcome of outcomes) {
    if (outcome.kind === 'added') accepted += 1;
    else if (outcome.kind === 'duplicate') duplicate += 1;
    else rejected.push({ id: outcome.id, version: outcome.version, code: outcome.code, message: outcome.message });
  }
  return { accepted, duplicate, rejected, outcomes };
}

/** Background checkpoints of a write-ahead log while an import writes (see startBackgroundCheckpoints). */
export interface BackgroundCheckpoints {
  /** After a commit: copy what is committed into the database file off this thread. */
  requestCheckpoint(): void;
  /** Before the store closes. */
  close(): Promise<void>;
}

/** A store with a write-ahead log that another connection can checkpoint meanwhile (SQLite). */
interface BackgroundCheckpointStore {
  startWalCheckpointer(): BackgroundCheckpoints | undefined;
}

function checkpointsInBackground(store: ObjectStore): store is ObjectStore & BackgroundCheckpointStore {
  return typeof (store as Partial<BackgroundCheckpointStore>).startWalCheckpointer === 'function';
}

/**
 * Starts background checkpoints for a long import, so that the store's close does not copy the whole
 * log at the end while nothing else runs; undefined when the store has no such log.
 */
export function startBackgroundCheckpoints(store: ObjectStore): BackgroundCheckpoints | undefined {
  return checkpointsInBackground(store) ? store.startWalCheckpointer() : undefined;
}

/** A store whose page cache an import can size to its input (SQLite). */
interface ImportSizedStore {
  sizeCacheForImport(inputBytes: number): void;
}

function sizesCacheForImport(store: ObjectStore): store is ObjectStore & ImportSizedStore {
  return typeof (store as Partial<ImportSizedStore>).sizeCacheForImport === 'function';
}

/** Sizes the store's page cache for an import of about `inputBytes` (0 when unknown: left as it is). */
export function sizeCacheForImport(store: ObjectStore, inputBytes: number): void {
  if (sizesCacheForImport(store)) store.sizeCacheForImport(inputBytes);
}

/**
 * One transaction around the writes of several batches (an import's document streamed as it is read):
 * each batch's own transaction becomes a part of it, and nothing is visible to other connections, or
 * kept, before commit.
 */
export interface ImportTransaction {
  commit(): void;
  rollback(): void;
}

/** A store that can hold several batches' writes in one transaction (SQLite). */
interface ImportTransactionStore {
  beginImportTransaction(): ImportTransaction;
}

function holdsImportTransactions(store: ObjectStore): store is ObjectStore & ImportTransactionStore {
  return typeof (store as Partial<ImportTransactionStore>).beginImportTransaction === 'function';
}

/** Opens an import transaction; undefined when the store cannot hold one (then no document may be streamed into it). */
export function beginImportTransaction(store: ObjectStore): ImportTransaction | undefined {
  return holdsImportTransactions(store) ? store.beginImportTransaction() : undefined;
}
