// What a value of each item type may be, so that an analyst's edit is checked as strictly as the
// extractor's own output: an edited IP must still be an IP, a hash of the right length, a pattern
// must parse. Returns the normalised value or the reason it is refused. Pure.
import { err, ok, type Result } from '../errors/result.ts';
import { parsePattern } from '../pattern/parse-pattern.ts';
import { parseIpv4, parseIpv6 } from '../stix/ip-address.ts';
import { renderedText } from '../extract/invisible.ts';
import type { DraftItem } from './draft.ts';

const HEX_LENGTH: Readonly<Record<string, number>> = { MD5: 32, 'SHA-1': 40, 'SHA-256': 64, 'SHA-512': 128 };
const SSDEEP = /^\d{1,10}:[A-Za-z0-9/+]{1,128}:[A-Za-z0-9/+]{1,128}$/;
const TLSH = /^(?:T1)?[0-9A-Fa-f]{70}$/;
// A label as the extractor reads one (extractors.ts): letters and digits, then marks too (an Indic
// vowel sign, a virama: IDNA lets no label start with one) and U+200C/U+200D inside it, which
// checkDomain() then holds to the extractor's own rule. Without the marks and joiners, a Hindi or
// Persian name the extractor proposed (क्षेत्र.com, نرم‌افزار.ir) was refused here and so never
// became an item: the report named it and the draft did not.
const DOMAIN_LABEL = /^(?!-)[\p{L}\p{N}_-][\p{L}\p{N}\p{M}\u200c-\u200d_-]{0,62}(?<![\u200c-\u200d-])$/u;
const EMAIL_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/;
const MAC = /^[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}$/;
const CVE = /^CVE-\d{4}-\d{4,}$/i;
const ASN = /^(?:AS)?(\d{1,10})$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
export const MAX_RULE_CHARS = 65_536;

/** Registry hives as STIX writes them (windows-registry-key `key` starts with the full hive name). */
export const REGISTRY_HIVES: Readonly<Record<string, string>> = {
  HKLM: 'HKEY_LOCAL_MACHINE',
  HKCU: 'HKEY_CURRENT_USER',
  HKCR: 'HKEY_CLASSES_ROOT',
  HKU: 'HKEY_USERS',
  HKCC: 'HKEY_CURRENT_CONFIG',
  HKEY_LOCAL_MACHINE: 'HKEY_LOCAL_MACHINE',
  HKEY_CURRENT_USER: 'HKEY_CURRENT_USER',
  HKEY_CLASSES_ROOT: 'HKEY_CLASSES_ROOT',
  HKEY_USERS: 'HKEY_USERS',
  HKEY_CURRENT_CONFIG: 'HKEY_CURRENT_CONFIG',
};

type Checked = Result<string, string>;

function ipWithPrefix(value: string, family: 4 | 6): Checked {
  const [address = '', prefix, extra] = value.split('/');
  if (extra !== undefined) return err(`"${value}" is not an IPv${family} address or CIDR block`);
  const valid = family === 4 ? parseIpv4(address) !== null : parseIpv6(address) !== null;
  if (!valid) return err(`"${value}" is not an IPv${family} address${family === 4 ? ' (dotted quad, no leading zeros)' : ''}`);
  if (prefix === undefined) return ok(family === 6 ? address.toLowerCase() : address);
  const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
  if (!(bits >= 0 && bits <= (family === 4 ? 32 : 128))) return err(`"${value}" has an invalid prefix length /${prefix}`);
  return ok(`${family === 6 ? address.toLowerCase() : address}/${bits}`);
}

export function checkDomain(value: string): Checked {
  const domain = value.toLowerCase().replace(/\.$/, '');
  const labels = domain.split('.');
  // renderedText() changes a name that holds an invisible character (a variation selector is a mark),
  // a joiner its rule does not keep (invisible.ts, isKeptJoiner) or a Hangul filler (a letter, drawn
  // as a blank): none is a name an analyst can read.
  if (
    domain.length > 253 ||
    labels.length < 2 ||
    !labels.every((label) => DOMAIN_LABEL.test(label)) ||
    /^\d+$/.test(labels[labels.length - 1] ?? '') ||
    renderedText(domain) !== domain
  ) {
    return err(`"${value}" is not a domain name`);
  }
  return ok(domain);
}

function checkUrl(value: string): Checked {
  if (value.length > 8192 || CONTROL.test(value) || /\s/.test(value)) return err(`"${value.slice(0, 80)}" is not a URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return err(`"${value.slice(0, 80)}" is not a URL (scheme://host/…)`);
  }
  if (url.hostname === '' || !/^[a-z][a-z0-9+.-]*:$/.test(url.protocol)) return err(`"${value.slice(0, 80)}" is not a URL with a host`);
  return ok(value);
}

function checkEmail(value: string): Checked {
  const at = value.lastIndexOf('@');
  if (at <= 0 || !EMAIL_LOCAL.test(value.slice(0, at))) return err(`"${value}" is not an e-mail address`);
  const domain = checkDomain(value.slice(at + 1));
  if (!domain.ok) return err(`"${value}" is not an e-mail address`);
  return ok(`${value.slice(0, at)}@${domain.value}`);
}

function checkHash(algorithm: string, value: string): Checked {
  const length = HEX_LENGTH[algorithm];
  if (length !== undefined) {
    return value.length === length && /^[0-9a-fA-F]+$/.test(value)
      ? ok(value.toLowerCase())
      : err(`"${value.slice(0, 140)}" is not a ${algorithm} hash (${length} hexadecimal digits)`);
  }
  if (algorithm === 'SSDEEP') return SSDEEP.test(value) ? ok(value) : err(`"${value.slice(0, 140)}" is not an SSDEEP hash (blocksize:hash:hash)`);
  if (algorithm === 'TLSH') return TLSH.test(value) ? ok(value.toUpperCase().startsWith('T1') ? `T1${value.slice(2).toUpperCase()}` : value.toUpperCase()) : err(`"${value.slice(0, 140)}" is not a TLSH hash`);
  return err(`unknown hash algorithm ${algorithm}`);
}

function checkFileName(value: string): Checked {
  if (value === '' || value.length > 255 || CONTROL.test(value) || /[\\/]/.test(value) || value === '.' || value === '..') {
    return err(`"${value.slice(0, 80)}" is not a file name (no path separators)`);
  }
  return ok(value);
}

function checkFilePath(value: string): Checked {
  if (value.length < 2 || value.length > 4096 || CONTROL.test(value) || !/[\\/]/.test(value)) {
    return err(`"${value.slice(0, 80)}" is not a file path (it needs a directory separator)`);
  }
  return ok(value);
}

export function checkRegistryKey(value: string): Checked {
  const separator = value.indexOf('\\');
  const hive = REGISTRY_HIVES[(separator < 0 ? value : value.slice(0, separator)).toUpperCase()];
  if (hive === undefined || CONTROL.test(value) || value.length > 2048) {
    return err(`"${value.slice(0, 80)}" is not a Windows registry key (it starts with a hive such as HKEY_LOCAL_MACHINE\\)`);
  }
  return ok(separator < 0 ? hive : `${hive}${value.slice(separator)}`);
}

function checkMac(value: string): Checked {
  return MAC.test(value) ? ok(value.toLowerCase().replace(/-/g, ':')) : err(`"${value}" is not a MAC address (six hexadecimal pairs)`);
}

function checkAsn(value: string): Checked {
  const match = ASN.exec(value.trim());
  const number = match === null ? NaN : Number(match[1]);
  return number >= 0 && number <= 4_294_967_295 ? ok(`AS${number}`) : err(`"${value}" is not an autonomous system number (AS64500)`);
}

/** The type an item's value must have, checked and normalised. */
export function checkItemValue(item: Pick<DraftItem, 'kind' | 'type' | 'subtype'>, raw: string): Checked {
  const value = item.kind === 'rule' ? raw : raw.trim();
  if (value === '') return err('the value is empty');
  switch (item.kind) {
    case 'vulnerability':
      return CVE.test(value) ? ok(value.toUpperCase()) : err(`"${value.slice(0, 80)}" is not a CVE id (CVE-YYYY-NNNN)`);
    case 'rule':
      return value.length <= MAX_RULE_CHARS ? ok(value) : err(`the rule is longer than ${MAX_RULE_CHARS} characters`);
    case 'observable':
      break;
    default:
      return err('ATT&CK references are accepted or rejected, not edited; reject this item instead');
  }
  switch (item.type) {
    case 'ipv4-addr':
      return ipWithPrefix(value, 4);
    case 'ipv6-addr':
      return ipWithPrefix(value, 6);
    case 'domain-name':
      return checkDomain(value);
    case 'url':
      return checkUrl(value);
    case 'email-addr':
      return checkEmail(value);
    case 'file':
      if (item.subtype === 'name') return checkFileName(value);
      if (item.subtype === 'path') return checkFilePath(value);
      return checkHash(item.subtype ?? '', value);
    case 'windows-registry-key':
      return checkRegistryKey(value);
    case 'mac-addr':
      return checkMac(value);
    case 'autonomous-system':
      return checkAsn(value);
    default:
      return err(`items of type ${item.type} cannot be published`);
  }
}

/** A STIX 2.1 pattern an analyst wrote for an observable's indicator: it must parse. */
export function checkPattern(pattern: string): Checked {
  if (pattern.length > MAX_RULE_CHARS) return err(`the pattern is longer than ${MAX_RULE_CHARS} characters`);
  const parsed = parsePattern(pattern);
  if (parsed.ok) return ok(pattern);
  const first = parsed.error[0];
  return err(`the STIX pattern is invalid: ${first?.message ?? 'syntax error'}`);
}
