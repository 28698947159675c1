import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkItemValue, checkPattern } from './item-values.ts';

const observable = (type: string, subtype?: string) => ({ kind: 'observable' as const, type, ...(subtype === undefined ? {} : { subtype }) });

describe('checkItemValue: an edited value must still be a value of the item type', () => {
  it('accepts IPv4 addresses and CIDR blocks, and refuses what is not one', () => {
    assert.deepEqual(checkItemValue(observable('ipv4-addr'), ' 45.77.12.3 '), { ok: true, value: '45.77.12.3' });
    assert.deepEqual(checkItemValue(observable('ipv4-addr'), '45.77.12.0/24'), { ok: true, value: '45.77.12.0/24' });
    for (const bad of ['45.77.12', '45.77.12.300', '045.77.12.3', 'evil.com', '45.77.12.0/33', '1.2.3.4/8/9', '::1']) {
      assert.equal(checkItemValue(observable('ipv4-addr'), bad).ok, false, bad);
    }
  });

  it('accepts IPv6 in any notation, lower-cased', () => {
    assert.deepEqual(checkItemValue(observable('ipv6-addr'), '2001:DB8::1'), { ok: true, value: '2001:db8::1' });
    assert.equal(checkItemValue(observable('ipv6-addr'), '2001:db8::1/129').ok, false);
    assert.equal(checkItemValue(observable('ipv6-addr'), '10.0.0.1').ok, false);
  });

  it('checks domains, URLs and e-mail addresses', () => {
    assert.deepEqual(checkItemValue(observable('domain-name'), 'Evil-C2.COM.'), { ok: true, value: 'evil-c2.com' });
    assert.deepEqual(checkItemValue(observable('domain-name'), 'bücher.example'), { ok: true, value: 'bücher.example' });
    for (const bad of ['evil', '-evil.com', 'evil..com', '1.2.3.4', 'evil com.net']) assert.equal(checkItemValue(observable('domain-name'), bad).ok, false, bad);
    // Names in scripts with marks and joiners, as the extractor proposes them (invisible.ts): a
    // vowel sign and a virama, a ZWJ after the virama, a ZWNJ between Persian letters that join.
    for (const name of ['\u0915\u094d\u0937\u0947\u0924\u094d\u0930.com', '\u0915\u094d\u200d\u0937\u0947\u0924\u094d\u0930.com', '\u0646\u0631\u0645\u200c\u0627\u0641\u0632\u0627\u0631.ir']) {
      assert.deepEqual(checkItemValue(observable('domain-name'), name), { ok: true, value: name }, name);
    }
    // Not a mark first, nor an invisible character, a joiner its rule removes, or a Hangul filler.
    for (const bad of ['\u094d\u0915.com', 'evil\ufe0f.com', 'ev\u200dil.com', 'pay\u094d\u200dpal.com', '\u0628\u200c.com', 'evil\u3164c2.com']) {
      assert.equal(checkItemValue(observable('domain-name'), bad).ok, false, bad);
    }
    assert.equal(checkItemValue(observable('url'), 'http://evil-c2.com/gate.php').ok, true);
    assert.equal(checkItemValue(observable('url'), 'evil-c2.com/gate.php').ok, false);
    assert.equal(checkItemValue(observable('url'), 'http://evil c2.com/').ok, false);
    assert.deepEqual(checkItemValue(observable('email-addr'), 'bad@Evil-C2.com'), { ok: true, value: 'bad@evil-c2.com' });
    assert.equal(checkItemValue(observable('email-addr'), 'not-an-address').ok, false);
  });

  it('checks hashes by their algorithm: length and digits', () => {
    const sha256 = 'A'.repeat(64);
    assert.deepEqual(checkItemValue(observable('file', 'SHA-256'), sha256), { ok: true, value: 'a'.repeat(64) });
    assert.equal(checkItemValue(observable('file', 'SHA-256'), 'a'.repeat(63)).ok, false);
    assert.equal(checkItemValue(observable('file', 'MD5'), 'g'.repeat(32)).ok, false);
    assert.equal(checkItemValue(observable('file', 'SHA-1'), 'a'.repeat(40)).ok, true);
    assert.equal(checkItemValue(observable('file', 'SSDEEP'), '96:s4Ud1Lj96tHHlZDrwciQmA:s4Ud1Lj96tHHlZDrwciQmA').ok, true);
    assert.equal(checkItemValue(observable('file', 'SSDEEP'), 'not ssdeep').ok, false);
  });

  it('checks file names, paths, registry keys, MAC addresses and AS numbers', () => {
    assert.equal(checkItemValue(observable('file', 'name'), 'svc.exe').ok, true);
    assert.equal(checkItemValue(observable('file', 'name'), 'C:\\svc.exe').ok, false);
    assert.equal(checkItemValue(observable('file', 'path'), 'C:\\Users\\Public\\svc.exe').ok, true);
    assert.equal(checkItemValue(observable('file', 'path'), 'svc.exe').ok, false);
    assert.deepEqual(checkItemValue(observable('windows-registry-key'), 'hklm\\Software\\Run'), { ok: true, value: 'HKEY_LOCAL_MACHINE\\Software\\Run' });
    assert.equal(checkItemValue(observable('windows-registry-key'), 'HKXX\\Software').ok, false);
    assert.deepEqual(checkItemValue(observable('mac-addr'), '00-1A-2B-3C-4D-5E'), { ok: true, value: '00:1a:2b:3c:4d:5e' });
    assert.equal(checkItemValue(observable('mac-addr'), '00:1A:2B:3C:4D').ok, false);
    assert.deepEqual(checkItemValue(observable('autonomous-system'), 'as64500'), { ok: true, value: 'AS64500' });
    assert.equal(checkItemValue(observable('autonomous-system'), 'AS99999999999').ok, false);
  });

  it('checks CVE ids, refuses edits of ATT&CK references and empty values', () => {
    assert.deepEqual(checkItemValue({ kind: 'vulnerability', type: 'vulnerability' }, 'cve-2026-12345'), { ok: true, value: 'CVE-2026-12345' });
    assert.equal(checkItemValue({ kind: 'vulnerability', type: 'vulnerability' }, 'CVE-26-1').ok, false);
    assert.match(String((checkItemValue({ kind: 'attack-pattern', type: 'attack-pattern' }, 'T1059') as { error: string }).error), /not edited/);
    assert.equal(checkItemValue(observable('ipv4-addr'), '   ').ok, false);
  });
});

describe('checkPattern', () => {
  it('accepts a STIX pattern that parses and says where one does not', () => {
    assert.equal(checkPattern("[domain-name:value LIKE '%.evil-c2.com']").ok, true);
    const bad = checkPattern("[domain-name:value = 'x'");
    assert.equal(bad.ok, false);
    assert.match((bad as { error: string }).error, /STIX pattern is invalid/);
  });
});
