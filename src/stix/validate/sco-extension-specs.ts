// Predefined SCO extensions (STIX 2.1 section 6), keyed `"<object type> <extension name>"`.
import {
  BOOLEAN,
  dictionary,
  HASHES,
  HEX,
  INTEGER,
  listOf,
  NON_NEGATIVE,
  NUMBER,
  object,
  ref,
  refs,
  shape,
  STRING,
  STRING_LIST,
  STRING_OR_INTEGER,
  toTypes,
  vocab,
  type PropSpec,
  type Shape,
} from './property-spec.ts';
import { atLeastOne } from './shape-rules.ts';
import { timestampFractionDigits } from './lexical.ts';
import {
  NETWORK_SOCKET_ADDRESS_FAMILY_ENUM,
  NETWORK_SOCKET_TYPE_ENUM,
  WINDOWS_INTEGRITY_LEVEL_ENUM,
  WINDOWS_PEBINARY_TYPE_OV,
  WINDOWS_SERVICE_START_TYPE_ENUM,
  WINDOWS_SERVICE_STATUS_ENUM,
  WINDOWS_SERVICE_TYPE_ENUM,
} from './vocabularies.ts';

function allOptionalAtLeastOne(props: Readonly<Record<string, PropSpec>>, required: readonly string[] = []): Shape {
  return shape(props, required, [atLeastOne(Object.keys(props).filter((k) => !required.includes(k)))]);
}

const NTFS_EXT = allOptionalAtLeastOne({
  sid: STRING,
  alternate_data_streams: listOf(object(shape({ name: STRING, hashes: HASHES, size: NON_NEGATIVE }, ['name']))),
});

const RASTER_IMAGE_EXT = allOptionalAtLeastOne({
  image_height: INTEGER,
  image_width: INTEGER,
  bits_per_pixel: INTEGER,
  exif_tags: dictionary(STRING_OR_INTEGER),
});

const PDF_EXT = allOptionalAtLeastOne({
  version: STRING,
  is_optimized: BOOLEAN,
  document_info_dict: dictionary(STRING),
  pdfid0: STRING,
  pdfid1: STRING,
});

const ARCHIVE_EXT = shape({ contains_refs: refs(toTypes('file', 'directory')), comment: STRING }, ['contains_refs']);

const PE_OPTIONAL_HEADER = shape(
  {
    magic_hex: HEX,
    major_linker_version: INTEGER,
    minor_linker_version: INTEGER,
    size_of_code: NON_NEGATIVE,
    size_of_initialized_data: NON_NEGATIVE,
    size_of_uninitialized_data: NON_NEGATIVE,
    address_of_entry_point: INTEGER,
    base_of_code: INTEGER,
    base_of_data: INTEGER,
    image_base: INTEGER,
    section_alignment: INTEGER,
    file_alignment: INTEGER,
    major_os_version: INTEGER,
    minor_os_version: INTEGER,
    major_image_version: INTEGER,
    minor_image_version: INTEGER,
    major_subsystem_version: INTEGER,
    minor_subsystem_version: INTEGER,
    win32_version_value_hex: HEX,
    size_of_image: NON_NEGATIVE,
    size_of_headers: NON_NEGATIVE,
    checksum_hex: HEX,
    subsystem_hex: HEX,
    dll_characteristics_hex: HEX,
    size_of_stack_reserve: NON_NEGATIVE,
    size_of_stack_commit: NON_NEGATIVE,
    size_of_heap_reserve: NON_NEGATIVE,
    size_of_heap_commit: NON_NEGATIVE,
    loader_flags_hex: HEX,
    number_of_rva_and_sizes: INTEGER,
    hashes: HASHES,
  },
  [],
  [(value, path, sink) => {
    if (Object.keys(value).length === 0) sink.error(path, 'STIX_AT_LEAST_ONE_REQUIRED', 'optional_header needs at least one property');
  }],
);

const PE_SECTION = shape({ name: STRING, size: NON_NEGATIVE, entropy: NUMBER, hashes: HASHES }, ['name']);

/** PE timestamps are whole seconds: the COFF header stores seconds since 1970. */
const SECONDS_TIMESTAMP: PropSpec = {
  kind: 'syntax',
  test: (s) => timestampFractionDigits(s) === 0,
  expected: 'a UTC timestamp without fractional seconds, like 2016-01-20T14:11:25Z',
};

const WINDOWS_PEBINARY_EXT = allOptionalAtLeastOne(
  {
    pe_type: vocab(WINDOWS_PEBINARY_TYPE_OV),
    imphash: STRING,
    machine_hex: HEX,
    number_of_sections: NON_NEGATIVE,
    time_date_stamp: SECONDS_TIMESTAMP,
    pointer_to_symbol_table_hex: HEX,
    number_of_symbols: NON_NEGATIVE,
    size_of_optional_header: NON_NEGATIVE,
    characteristics_hex: HEX,
    file_header_hashes: HASHES,
    optional_header: object(PE_OPTIONAL_HEADER),
    sections: listOf(object(PE_SECTION)),
  },
  ['pe_type'],
);

const HTTP_REQUEST_EXT = shape(
  {
    request_method: STRING,
    request_value: STRING,
    request_version: STRING,
    request_header: dictionary(STRING_LIST, (key) => key.length > 0 && key.length <= 250),
    message_body_length: INTEGER,
    message_body_data_ref: ref(toTypes('artifact')),
  },
  ['request_method', 'request_value'],
);

const ICMP_EXT = shape({ icmp_type_hex: HEX, icmp_code_hex: HEX }, ['icmp_type_hex', 'icmp_code_hex']);

const SOCKET_OPTION = /^(?:SO|ICMP|ICMP6|IP|IPV6|MCAST|TCP|IRLMP)(?:_[A-Z]+)+$/;

const SOCKET_EXT = shape(
  {
    address_family: vocab(NETWORK_SOCKET_ADDRESS_FAMILY_ENUM),
    is_blocking: BOOLEAN,
    is_listening: BOOLEAN,
    options: dictionary(INTEGER, (key) => SOCKET_OPTION.test(key)),
    socket_type: vocab(NETWORK_SOCKET_TYPE_ENUM),
    socket_descriptor: NON_NEGATIVE,
    socket_handle: INTEGER,
  },
  ['address_family'],
);

const TCP_EXT = allOptionalAtLeastOne({ src_flags_hex: HEX, dst_flags_hex: HEX });

const WINDOWS_PROCESS_EXT = allOptionalAtLeastOne({
  aslr_enabled: BOOLEAN,
  dep_enabled: BOOLEAN,
  priority: STRING,
  owner_sid: STRING,
  window_title: STRING,
  startup_info: dictionary(),
  integrity_level: vocab(WINDOWS_INTEGRITY_LEVEL_ENUM),
});

const WINDOWS_SERVICE_EXT = allOptionalAtLeastOne({
  service_name: STRING,
  descriptions: STRING_LIST,
  display_name: STRING,
  group_name: STRING,
  start_type: vocab(WINDOWS_SERVICE_START_TYPE_ENUM),
  service_dll_refs: refs(toTypes('file')),
  service_type: vocab(WINDOWS_SERVICE_TYPE_ENUM),
  service_status: vocab(WINDOWS_SERVICE_STATUS_ENUM),
});

const UNIX_ACCOUNT_EXT = allOptionalAtLeastOne({ gid: INTEGER, groups: STRING_LIST, home_dir: STRING, shell: STRING });

export const PREDEFINED_EXTENSIONS: ReadonlyMap<string, Shape> = new Map([
  ['file ntfs-ext', NTFS_EXT],
  ['file raster-image-ext', RASTER_IMAGE_EXT],
  ['file pdf-ext', PDF_EXT],
  ['file archive-ext', ARCHIVE_EXT],
  ['file windows-pebinary-ext', WINDOWS_PEBINARY_EXT],
  ['network-traffic http-request-ext', HTTP_REQUEST_EXT],
  ['network-traffic icmp-ext', ICMP_EXT],
  ['network-traffic socket-ext', SOCKET_EXT],
  ['network-traffic tcp-ext', TCP_EXT],
  ['process windows-process-ext', WINDOWS_PROCESS_EXT],
  ['process windows-service-ext', WINDOWS_SERVICE_EXT],
  ['user-account unix-account-ext', UNIX_ACCOUNT_EXT],
]);
