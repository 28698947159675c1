/** A Server-Sent Events client for the alert stream tests and the alerts bench. */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { AlertBus } from '../../src/correlate/alert-bus.ts';
import { NodeMatcher, type NodeMatcherDeps } from '../../src/correlate/node-matcher.ts';
import type { StixObject } from '../../src/stix/types.ts';
import type { TestNode } from '../taxii/taxii-test-kit.ts';

export interface SseEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
}

export interface SseClient {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly events: SseEvent[];
  readonly comments: string[];
  /** Resolves with the first event (seen or to come) that passes `test`. */
  waitFor(test: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  /** Called for every event as it is parsed (for latency measurements). */
  onEvent: ((event: SseEvent) => void) | undefined;
  close(): void;
}

export function connectSse(url: string, headers: Record<string, string>, options: { paused?: boolean } = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const waiters: { test: (event: SseEvent) => boolean; resolve: (event: SseEvent) => void }[] = [];
      let buffer = '';
      let endResolve: () => void = () => undefined;
      const ended = new Promise<void>((r) => (endResolve = r));
      response.on('end', () => endResolve());
      response.on('close', () => endResolve());
      response.on('error', () => endResolve());
      const client: SseClient = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        events,
        comments,
        ended,
        onEvent: undefined,
        waitFor(test, timeoutMs = 5000) {
          const seen = events.find(test);
          if (seen !== undefined) return Promise.resolve(seen);
          return new Promise((res, rej) => {
            const timer = setTimeout(() => rej(new Error(`no matching event within ${timeoutMs} ms (got ${events.length} events)`)), timeoutMs);
            waiters.push({
              test,
              resolve: (event) => {
                clearTimeout(timer);
                res(event);
              },
            });
          });
        },
        close() {
          req.destroy();
        },
      };
      response.setEncoding('utf8');
      if (options.paused === true) response.pause();
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let split: number;
        while ((split = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          let event = 'message';
          let id: string | undefined;
          const data: string[] = [];
          let any = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) {
              event = line.slice(7);
              any = true;
            } else if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) {
              data.push(line.slice(6));
              any = true;
            }
          }
          if (!any) continue;
          const parsed = { event, id, data: data.join('\n') };
          events.push(parsed);
          client.onEvent?.(parsed);
          for (let i = 0; i < waiters.length; i++) {
            const waiter = waiters[i];
            if (waiter !== undefined && waiter.test(parsed)) {
              waiters.splice(i--, 1);
              waiter.resolve(parsed);
            }
          }
        }
      });
      resolve(client);
    });
    req.on('error', reject);
    req.end();
  });
}

export function ipIndicator(n: number, ip: string, overrides: Record<string, unknown> = {}): StixObject {
  return {
    type: 'indicator',
    spec_version: '2.1',
    id: `indicator--a1e00000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    name: `Alert test ${n}`,
    pattern: `[ipv4-addr:value = '${ip}']`,
    pattern_type: 'stix',
    valid_from: '2026-01-01T00:00:00Z',
    confidence: 80,
    ...overrides,
  } as StixObject;
}

/**
 * POSTs one observed IPv4 address, seen at `at`, to the node's /api/observations as the token whose
 * headers are given; resolves with the alerts it is answered with.
 */
export async function postObservedAddress<Alert>(node: TestNode, headers: Readonly<Record<string, string>>, ip: string, at: string): Promise<Alert[]> {
  const line = JSON.stringify({ type: 'observed-data', first_observed: at, last_observed: at, objects: { '0': { type: 'ipv4-addr', value: ip } } });
  const response = await node.app.inject({
    method: 'POST', url: '/api/observations',
    headers: { ...headers, 'content-type': 'application/x-ndjson', accept: 'application/json' },
    payload: line,
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<{ alerts: Alert[] }>().alerts;
}

/**
 * A NodeMatcher on a test node's store as the running node makes one, with a fixed clock, a private
 * bus and no pause between on-demand refreshes; `deps` adds the callbacks a test listens on.
 */
export function standaloneMatcher(node: TestNode, at: string, deps: Partial<NodeMatcherDeps> = {}): NodeMatcher {
  return new NodeMatcher({
    store: node.store,
    bus: new AlertBus(64),
    clock: () => new Date(at),
    randomUuid: randomUUID,
    homeOrganisationId: 'identity--0b4b0d7f-55a4-4f3c-9c43-5e0f1b2b3c4d',
    onDemandMinMs: 0,
    ...deps,
  });
}
