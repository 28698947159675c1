// Text from a document (or from anyone but the operator) on its way to a terminal. A report's author
// writes its title, its sentences, the values found in it and the names of its attachments; printed
// as they are, the control sequences they carry would act on the analyst's terminal (retitle it,
// write the clipboard with OSC 52, erase or conceal lines, forge a line of output) and a bidi
// override would show a value reversed. Each such character is printed as a visible \uXXXX escape
// instead: the analyst sees that the document holds it, and the line stays one line. Tabs stay
// (the commands' own column separators).

// C0 controls but the tab, DEL, C1 controls (U+009B is a one-character CSI), and the bidi
// embeddings, overrides, isolates and marks.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `line` with every terminal control and bidi control character written as a visible \uXXXX escape. */
export function terminalLine(line: string): string {
  return line.replace(UNSAFE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
