// STIX Cyber-observable Objects (STIX 2.1 section 6). Predefined extensions are in sco-extension-specs.ts.
import { SCO_COMMON, SCO_REQUIRED } from './common-properties.ts';
import { isRecord } from './check-value.ts';
import { memberPath } from './issue-sink.ts';
import {
  isCpe23,
  isEmailAddress,
  isEncodingName,
  isIpv4Value,
  isIpv6Value,
  isMacValue,
  isMimeType,
  isPlausibleDomainName,
  isSoftwareLanguage,
} from './lexical.ts';
import {
  ANY_SCO,
  BINARY,
  BOOLEAN,
  dictionary,
  HASHES,
  HEX,
  INTEGER,
  integer,
  listOf,
  NON_NEGATIVE,
  object,
  ref,
  refs,
  shape,
  STRING,
  STRING_LIST,
  STRING_OR_INTEGER,
  STRING_OR_STRING_LIST,
  syntax,
  TIMESTAMP,
  toTypes,
  URL,
  vocab,
  type PropSpec,
  type Shape,
  type ShapeRule,
} from './property-spec.ts';
import { atLeastOne, exactlyOne, forbiddenWhen, requires, timeOrder } from './shape-rules.ts';
import { ACCOUNT_TYPE_OV, ENCRYPTION_ALGORITHM_ENUM, WINDOWS_REGISTRY_DATATYPE_ENUM } from './vocabularies.ts';

function sco(props: Readonly<Record<string, PropSpec>>, required: readonly string[] = [], rules: readonly ShapeRule[] = []): Shape {
  return shape({ ...SCO_COMMON, ...props }, [...SCO_REQUIRED, ...required], rules, true);
}

/** SCOs whose properties are all optional must still say something (spec: "at least one property"). */
function atLeastOneOwn(props: Readonly<Record<string, PropSpec>>): ShapeRule {
  return atLeastOne([...Object.keys(props), 'extensions'], 'at least one of its own properties (or an extension)');
}

const ENCODING = syntax(isEncodingName, 'a character-set name from the IANA registry, like "UTF-8"');
const EMAIL_ADDR_REF = ref(toTypes('email-addr'));
const EMAIL_ADDR_REFS = refs(toTypes('email-addr'));
const USER_ACCOUNT_REF = ref(toTypes('user-account'));
const ADDRESS_TARGET = toTypes('ipv4-addr', 'ipv6-addr', 'mac-addr', 'domain-name');

const MIME_PART = shape(
  { body: STRING, body_raw_ref: ref(toTypes('artifact', 'file')), content_type: STRING, content_disposition: STRING },
  [],
  [exactlyOne(['body', 'body_raw_ref'])],
);

/** Headers with their own email-message property must not be repeated in additional_header_fields. */
const HEADERS_WITH_PROPERTIES = new Set(['date', 'content-type', 'from', 'sender', 'to', 'cc', 'bcc', 'subject', 'received', 'message-id']);
const NO_DUPLICATED_HEADERS: ShapeRule = (value, path, sink) => {
  const fields = value['additional_header_fields'];
  if (!isRecord(fields)) return;
  for (const key of Object.keys(fields)) {
    if (HEADERS_WITH_PROPERTIES.has(key.toLowerCase())) {
      sink.error(
        memberPath(memberPath(path, 'additional_header_fields'), key),
        'STIX_PROPERTY_CONFLICT',
        `the '${key}' header has its own email-message property; do not repeat it in additional_header_fields`,
      );
    }
  }
};

/** Abbreviated hive names (HKLM…) are not allowed: the key must start with the full hive name. */
const REGISTRY_KEY: PropSpec = syntax(
  (s) => !/^(?:HKLM|HKCC|HKCR|HKCU|HKU)(?:\\|$)/i.test(s),
  'a registry key starting with the full hive name, like HKEY_LOCAL_MACHINE\\System (abbreviations such as HKLM are not allowed)',
);

const REGISTRY_VALUE = shape({ name: STRING, data: STRING, data_type: vocab(WINDOWS_REGISTRY_DATATYPE_ENUM) }, [], [atLeastOne(['name', 'data', 'data_type'])]);

const X509_V3_EXTENSIONS_PROPS: Readonly<Record<string, PropSpec>> = {
  basic_constraints: STRING,
  name_constraints: STRING,
  policy_constraints: STRING,
  key_usage: STRING,
  extended_key_usage: STRING,
  subject_key_identifier: STRING,
  authority_key_identifier: STRING,
  subject_alternative_name: STRING,
  issuer_alternative_name: STRING,
  subject_directory_attributes: STRING,
  crl_distribution_points: STRING,
  inhibit_any_policy: STRING,
  private_key_usage_period_not_before: TIMESTAMP,
  private_key_usage_period_not_after: TIMESTAMP,
  certificate_policies: STRING,
  policy_mappings: STRING,
};

const PROCESS_PROPS: Readonly<Record<string, PropSpec>> = {
  is_hidden: BOOLEAN,
  pid: INTEGER,
  created_time: TIMESTAMP,
  cwd: STRING,
  command_line: STRING,
  environment_variables: dictionary(STRING),
  opened_connection_refs: refs(toTypes('network-traffic')),
  creator_user_ref: USER_ACCOUNT_REF,
  image_ref: ref(toTypes('file')),
  parent_ref: ref(toTypes('process')),
  child_refs: refs(toTypes('process')),
};

const USER_ACCOUNT_PROPS: Readonly<Record<string, PropSpec>> = {
  user_id: STRING,
  credential: STRING,
  account_login: STRING,
  account_type: vocab(ACCOUNT_TYPE_OV),
  display_name: STRING,
  is_service_account: BOOLEAN,
  is_privileged: BOOLEAN,
  can_escalate_privs: BOOLEAN,
  is_disabled: BOOLEAN,
  account_created: TIMESTAMP,
  account_expires: TIMESTAMP,
  credential_last_changed: TIMESTAMP,
  account_first_login: TIMESTAMP,
  account_last_login: TIMESTAMP,
};

const REGISTRY_KEY_PROPS: Readonly<Record<string, PropSpec>> = {
  key: REGISTRY_KEY,
  values: listOf(object(REGISTRY_VALUE)),
  modified_time: TIMESTAMP,
  creator_user_ref: USER_ACCOUNT_REF,
  number_of_subkeys: INTEGER,
};

const X509_PROPS: Readonly<Record<string, PropSpec>> = {
  is_self_signed: BOOLEAN,
  hashes: HASHES,
  version: STRING,
  serial_number: STRING,
  signature_algorithm: STRING,
  issuer: STRING,
  validity_not_before: TIMESTAMP,
  validity_not_after: TIMESTAMP,
  subject: STRING,
  subject_public_key_algorithm: STRING,
  subject_public_key_modulus: STRING,
  subject_public_key_exponent: INTEGER,
  x509_v3_extensions: object(shape(X509_V3_EXTENSIONS_PROPS, [], [atLeastOne(Object.keys(X509_V3_EXTENSIONS_PROPS))])),
};

const isActive = (v: Record<string, unknown>): boolean => v['is_active'] === true;

export const SCO_SPECS: ReadonlyMap<string, Shape> = new Map([
  [
    'artifact',
    sco(
      {
        mime_type: syntax(isMimeType, 'an IANA media type like "application/zip"'),
        payload_bin: BINARY,
        url: URL,
        hashes: HASHES,
        encryption_algorithm: vocab(ENCRYPTION_ALGORITHM_ENUM),
        decryption_key: STRING,
      },
      [],
      [exactlyOne(['payload_bin', 'url']), requires('url', 'hashes', ' (so the downloaded content can be verified)'), requires('decryption_key', 'encryption_algorithm')],
    ),
  ],
  ['autonomous-system', sco({ number: INTEGER, name: STRING, rir: STRING }, ['number'])],
  [
    'directory',
    sco({ path: STRING, path_enc: ENCODING, ctime: TIMESTAMP, mtime: TIMESTAMP, atime: TIMESTAMP, contains_refs: refs(toTypes('file', 'directory')) }, ['path']),
  ],
  [
    'domain-name',
    sco(
      {
        value: syntax(isPlausibleDomainName, 'a domain name (no spaces, slashes, ports or @)'),
        resolves_to_refs: refs(toTypes('ipv4-addr', 'ipv6-addr', 'domain-name')),
      },
      ['value'],
    ),
  ],
  ['email-addr', sco({ value: syntax(isEmailAddress, 'a single e-mail address like "jdoe@example.com"'), display_name: STRING, belongs_to_ref: USER_ACCOUNT_REF }, ['value'])],
  [
    'email-message',
    sco(
      {
        is_multipart: BOOLEAN,
        date: TIMESTAMP,
        content_type: STRING,
        from_ref: EMAIL_ADDR_REF,
        sender_ref: EMAIL_ADDR_REF,
        to_refs: EMAIL_ADDR_REFS,
        cc_refs: EMAIL_ADDR_REFS,
        bcc_refs: EMAIL_ADDR_REFS,
        message_id: STRING,
        subject: STRING,
        received_lines: STRING_LIST,
        additional_header_fields: dictionary(STRING_OR_STRING_LIST),
        body: STRING,
        body_multipart: listOf(object(MIME_PART)),
        raw_email_ref: ref(toTypes('artifact')),
      },
      ['is_multipart'],
      [
        forbiddenWhen('body', (v) => v['is_multipart'] === true, 'when is_multipart is true (use body_multipart)'),
        forbiddenWhen('body_multipart', (v) => v['is_multipart'] === false, 'when is_multipart is false (use body)'),
        NO_DUPLICATED_HEADERS,
      ],
    ),
  ],
  [
    'file',
    sco(
      {
        hashes: HASHES,
        size: NON_NEGATIVE,
        name: STRING,
        name_enc: ENCODING,
        magic_number_hex: HEX,
        mime_type: STRING,
        ctime: TIMESTAMP,
        mtime: TIMESTAMP,
        atime: TIMESTAMP,
        parent_directory_ref: ref(toTypes('directory')),
        contains_refs: refs(ANY_SCO),
        content_ref: ref(toTypes('artifact')),
      },
      [],
      [atLeastOne(['hashes', 'name'])],
    ),
  ],
  [
    'ipv4-addr',
    sco(
      {
        value: syntax(isIpv4Value, 'an IPv4 address or CIDR block like "198.51.100.3" or "198.51.100.0/24"'),
        resolves_to_refs: refs(toTypes('mac-addr')),
        belongs_to_refs: refs(toTypes('autonomous-system')),
      },
      ['value'],
    ),
  ],
  [
    'ipv6-addr',
    sco(
      {
        value: syntax(isIpv6Value, 'an IPv6 address or CIDR block like "2001:db8::1" or "2001:db8::/32"'),
        resolves_to_refs: refs(toTypes('mac-addr')),
        belongs_to_refs: refs(toTypes('autonomous-system')),
      },
      ['value'],
    ),
  ],
  ['mac-addr', sco({ value: syntax(isMacValue, 'a MAC address in lowercase colon-separated form like "d2:fb:49:24:37:18"') }, ['value'])],
  ['mutex', sco({ name: STRING }, ['name'])],
  [
    'network-traffic',
    sco(
      {
        start: TIMESTAMP,
        end: TIMESTAMP,
        is_active: BOOLEAN,
        src_ref: ref(ADDRESS_TARGET),
        dst_ref: ref(ADDRESS_TARGET),
        src_port: integer(0, 65535),
        dst_port: integer(0, 65535),
        protocols: STRING_LIST,
        src_byte_count: NON_NEGATIVE,
        dst_byte_count: NON_NEGATIVE,
        src_packets: NON_NEGATIVE,
        dst_packets: NON_NEGATIVE,
        ipfix: dictionary(STRING_OR_INTEGER),
        src_payload_ref: ref(toTypes('artifact')),
        dst_payload_ref: ref(toTypes('artifact')),
        encapsulates_refs: refs(toTypes('network-traffic')),
        encapsulated_by_ref: ref(toTypes('network-traffic')),
      },
      ['protocols'],
      [atLeastOne(['src_ref', 'dst_ref']), forbiddenWhen('end', isActive, 'when is_active is true'), timeOrder('start', 'end')],
    ),
  ],
  ['process', sco(PROCESS_PROPS, [], [atLeastOneOwn(PROCESS_PROPS)])],
  [
    'software',
    sco(
      {
        name: STRING,
        cpe: syntax(isCpe23, 'a CPE 2.3 name like "cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*"'),
        swid: STRING,
        languages: listOf(syntax(isSoftwareLanguage, 'an ISO 639-2 language code like "en" or "eng"')),
        vendor: STRING,
        version: STRING,
      },
      ['name'],
    ),
  ],
  ['url', sco({ value: URL }, ['value'])],
  ['user-account', sco(USER_ACCOUNT_PROPS, [], [atLeastOneOwn(USER_ACCOUNT_PROPS)])],
  ['windows-registry-key', sco(REGISTRY_KEY_PROPS, [], [atLeastOneOwn(REGISTRY_KEY_PROPS)])],
  ['x509-certificate', sco(X509_PROPS, [], [atLeastOneOwn(X509_PROPS), timeOrder('validity_not_before', 'validity_not_after')])],
]);
