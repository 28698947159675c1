// The `extensions` property (STIX 2.1 section 7.3): keys are extension-definition identifiers or, for SCOs,
// the names of predefined extensions (`ntfs-ext`, …). Other `*-ext` names are STIX 2.0-style custom
// extensions, which 2.1 deprecates.
import type { CheckContext } from './check-value.ts';
import { checkShape, checkUndefinedProperty, checkValue, isRecord, jsonTypeOf } from './check-value.ts';
import { memberPath } from './issue-sink.ts';
import { checkIdentifier, IdVerdict, idHasType, isTypeName } from './lexical.ts';
import { PREDEFINED_EXTENSIONS } from './sco-extension-specs.ts';
import { EXTENSION_TYPE_ENUM, TLP_2_0_OV } from './vocabularies.ts';

const EXTENSION_TYPE = { kind: 'vocab', vocab: EXTENSION_TYPE_ENUM } as const;

/** The extension-definition of the TLP 2.0 marking definitions (FIRST TLP 2.0 as STIX). */
export const TLP_2_0_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

function isDeprecatedExtensionName(key: string): boolean {
  return key.endsWith('-ext') && key.length > 4 && isTypeName(key, 0, key.length - 4) && !key.startsWith('extension-definition-');
}

/** Whether an object declares a toplevel-property-extension, which licenses unprefixed top-level properties. */
export function declaresToplevelExtension(extensions: unknown): boolean {
  if (!isRecord(extensions)) return false;
  for (const key of Object.keys(extensions)) {
    const body = extensions[key];
    if (isRecord(body) && body['extension_type'] === 'toplevel-property-extension') return true;
  }
  return false;
}

export function checkExtensions(value: unknown, path: string, ctx: CheckContext): void {
  if (!isRecord(value)) {
    ctx.sink.error(path, 'STIX_PROPERTY_WRONG_TYPE', `must be a dictionary of extensions, got ${jsonTypeOf(value)}`);
    return;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) {
    ctx.sink.error(path, 'STIX_DICTIONARY_EMPTY', 'extensions must not be empty; omit the property instead');
    return;
  }
  const markingDefinition = ctx.objectType === 'marking-definition';
  for (const key of keys) {
    const body = value[key];
    const p = memberPath(path, key);
    if (key.startsWith('extension-definition--')) {
      const verdict = checkIdentifier(key);
      if (verdict !== IdVerdict.Ok || !idHasType(key, 'extension-definition')) {
        ctx.sink.error(p, 'STIX_EXTENSION_KEY_INVALID', 'extension keys of this form must be an extension-definition identifier with an RFC 4122 UUID');
        continue;
      }
      checkDefinedExtension(key, body, p, ctx);
      continue;
    }
    const predefined = markingDefinition ? undefined : PREDEFINED_EXTENSIONS.get(`${ctx.objectType} ${key}`);
    if (predefined !== undefined) {
      if (!isRecord(body)) {
        ctx.sink.error(p, 'STIX_PROPERTY_WRONG_TYPE', `an extension must be an object, got ${jsonTypeOf(body)}`);
      } else {
        checkShape(predefined, body, p, ctx);
        if (Object.keys(body).length === 0) ctx.sink.error(p, 'STIX_EXTENSION_EMPTY', 'an extension must have at least one property');
      }
      continue;
    }
    if (!markingDefinition && isDeprecatedExtensionName(key)) {
      ctx.sink.warn(
        p,
        'STIX_EXTENSION_DEPRECATED',
        `'${key}' is not a predefined extension of '${ctx.objectType}'; custom '-ext' extensions are deprecated in STIX 2.1, use an extension-definition`,
      );
      checkExtensionBody(body, p, ctx);
      continue;
    }
    ctx.sink.error(
      p,
      'STIX_EXTENSION_KEY_INVALID',
      markingDefinition
        ? 'marking-definition extensions must be keyed by an extension-definition identifier'
        : `'${key.slice(0, 80)}' is neither an extension-definition identifier nor a predefined extension name`,
    );
  }
}

function checkExtensionBody(body: unknown, path: string, ctx: CheckContext): boolean {
  if (!isRecord(body)) {
    ctx.sink.error(path, 'STIX_PROPERTY_WRONG_TYPE', `an extension must be an object, got ${jsonTypeOf(body)}`);
    return false;
  }
  let count = 0;
  for (const key of Object.keys(body)) {
    count++;
    if (key !== 'extension_type') checkUndefinedProperty(key, body[key], path, ctx, 'extension');
  }
  if (count === 0) ctx.sink.error(path, 'STIX_EXTENSION_EMPTY', 'an extension must have at least one property');
  return true;
}

function checkDefinedExtension(key: string, body: unknown, path: string, ctx: CheckContext): void {
  if (!checkExtensionBody(body, path, ctx) || !isRecord(body)) return;
  const extensionType = body['extension_type'];
  if (extensionType === undefined) {
    ctx.sink.error(memberPath(path, 'extension_type'), 'STIX_REQUIRED_PROPERTY_MISSING', "'extension_type' is required in an extension keyed by an extension-definition");
  } else {
    checkValue(EXTENSION_TYPE, extensionType, path, 'extension_type', ctx);
  }
  if (key === TLP_2_0_EXTENSION_ID) {
    const level = body['tlp_2_0'];
    if (typeof level !== 'string' || !TLP_2_0_OV.values.has(level)) {
      ctx.sink.error(memberPath(path, 'tlp_2_0'), 'STIX_TLP_INVALID', 'the TLP 2.0 extension needs tlp_2_0: one of clear, green, amber, amber+strict, red');
    }
  }
}
