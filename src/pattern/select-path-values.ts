// The values an object path selects from one SCO. A key step reads a property; `[n]` one list element;
// `[*]` every element (so a comparison holds when it holds for any of them). A step past a `…_ref`
// property, or past an element of a `…_refs` list, follows the reference to the object it names
// (STIX 2.1 §9.4). `…_bin` and `…_hex` properties are read as bytes. A path that cannot be followed
// selects nothing, which makes every comparison on it false.
import type { PathStep } from './pattern-ast.ts';
import { BinaryValue, type PathValue } from './test-comparison.ts';

export type ResolveReference = (id: string) => Readonly<Record<string, unknown>> | undefined;

interface Selected {
  readonly value: unknown;
  /** The value is an object reference (a `_ref` property or an element of a `_refs` list). */
  readonly reference: boolean;
  readonly referenceList: boolean;
}

// One character class each, the length checked apart: groups under a quantifier overflowed the
// regular expression stack on a property of megabytes (an artifact's payload_bin), and the RangeError
// ended the evaluation of every pattern against that observation.
const hexChars = /^[0-9a-fA-F]*$/;
const base64Chars = /^[A-Za-z0-9+/]*={0,2}$/;
const isHexText = (text: string): boolean => text.length % 2 === 0 && hexChars.test(text);
const isBase64Text = (text: string): boolean => text.length % 4 === 0 && base64Chars.test(text);

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function typedProperty(name: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (name.endsWith('_hex') && isHexText(value)) return new BinaryValue(Buffer.from(value, 'hex'));
  if (name.endsWith('_bin') && isBase64Text(value)) return new BinaryValue(Buffer.from(value, 'base64'));
  return value;
}

export function selectPathValues(root: Readonly<Record<string, unknown>>, steps: readonly PathStep[], resolve: ResolveReference): PathValue[] {
  let current: Selected[] = [{ value: root, reference: false, referenceList: false }];
  for (const step of steps) {
    const next: Selected[] = [];
    for (const item of current) {
      if (step.kind === 'key') {
        let container = item.value;
        if (item.reference && typeof container === 'string') container = resolve(container);
        if (!isRecord(container) || !Object.prototype.hasOwnProperty.call(container, step.name)) continue;
        const value = typedProperty(step.name, container[step.name]);
        next.push({ value, reference: step.name.endsWith('_ref'), referenceList: step.name.endsWith('_refs') });
      } else if (Array.isArray(item.value)) {
        const elements: readonly unknown[] = item.value;
        if (step.kind === 'index') {
          if (step.index < elements.length) next.push({ value: elements[step.index], reference: item.referenceList, referenceList: false });
        } else {
          for (const element of elements) next.push({ value: element, reference: item.referenceList, referenceList: false });
        }
      }
    }
    if (next.length === 0) return [];
    current = next;
  }
  return current.map((item) => item.value as PathValue);
}
