// Suricata EVE JSON events as observations. Every event with addresses gives network-traffic between
// them; its protocol records add what they name, whatever the event type (an alert carries the http,
// dns or tls record of its flow too): dns query names and answers, http host and URL, tls server name
// and certificate, fileinfo hashes and names. Events without addresses (stats) are not observations.
import { ScoBuilder, hashesOf } from './sco-builder.ts';
import { isRecord, toStixTimestamp, type JsonRecord } from './log-observation.ts';

export interface EveResult {
  readonly timestamp: string;
  readonly objects: Record<string, JsonRecord>;
}

/** Events that are about the sensor, not the traffic: skipped without counting as malformed. */
export const eveIgnoredTypes: ReadonlySet<string> = new Set(['stats', 'engine']);

export function eveEventObservation(event: JsonRecord): EveResult | string | undefined {
  if (typeof event['event_type'] === 'string' && eveIgnoredTypes.has(event['event_type'])) return undefined;
  const timestamp = toStixTimestamp(event['timestamp']);
  if (timestamp === undefined) return `timestamp ${JSON.stringify(event['timestamp'])} is not a time`;
  const b = new ScoBuilder();
  const appProto = event['app_proto'];
  b.traffic({
    src: event['src_ip'],
    dst: event['dest_ip'],
    srcPort: event['src_port'],
    dstPort: event['dest_port'],
    protocols: [event['proto'], appProto === 'failed' ? undefined : appProto],
  });
  const dns = event['dns'];
  if (isRecord(dns)) {
    b.domain(dns['rrname']);
    for (const query of Array.isArray(dns['queries']) ? dns['queries'] : []) if (isRecord(query)) b.domain(query['rrname']);
    if (typeof dns['rdata'] === 'string') b.domain(dns['rdata']);
    for (const answer of Array.isArray(dns['answers']) ? dns['answers'] : []) if (isRecord(answer)) b.domain(answer['rdata']);
    const grouped = dns['grouped'];
    if (isRecord(grouped)) for (const values of Object.values(grouped)) for (const value of Array.isArray(values) ? values : []) b.domain(value);
  }
  const http = event['http'];
  if (isRecord(http)) {
    const host = http['hostname'];
    b.domain(host);
    const url = http['url'];
    if (typeof url === 'string' && /^https?:\/\//i.test(url)) b.url(url);
    else if (typeof host === 'string' && host !== '' && typeof url === 'string') b.url(`http://${host}${url.startsWith('/') ? '' : '/'}${url}`);
  }
  const tls = event['tls'];
  if (isRecord(tls)) {
    b.domain(tls['sni']);
    const cert: Record<string, unknown> = { type: 'x509-certificate' };
    if (typeof tls['fingerprint'] === 'string') {
      const hashes = hashesOf(undefined, tls['fingerprint'].replace(/:/g, ''), undefined);
      if (hashes !== undefined) cert['hashes'] = hashes;
    }
    if (typeof tls['serial'] === 'string') cert['serial_number'] = tls['serial'];
    if (typeof tls['subject'] === 'string') cert['subject'] = tls['subject'];
    if (typeof tls['issuerdn'] === 'string') cert['issuer'] = tls['issuerdn'];
    if (Object.keys(cert).length > 1) b.add(cert);
  }
  const fileinfo = event['fileinfo'];
  if (isRecord(fileinfo)) {
    const file: Record<string, unknown> = { type: 'file' };
    const hashes = hashesOf(fileinfo['md5'], fileinfo['sha1'], fileinfo['sha256']);
    if (hashes !== undefined) file['hashes'] = hashes;
    if (typeof fileinfo['filename'] === 'string' && fileinfo['filename'] !== '') file['name'] = fileinfo['filename'].split('/').pop();
    if (typeof fileinfo['size'] === 'number' && Number.isSafeInteger(fileinfo['size']) && fileinfo['size'] >= 0) file['size'] = fileinfo['size'];
    if (Object.keys(file).length > 1) b.add(file);
  }
  if (b.size === 0) return undefined;
  return { timestamp, objects: b.objects };
}
