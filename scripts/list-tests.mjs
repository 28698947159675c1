// Lists every test file for `node --test`: Node 20 does not expand quoted globs itself.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['src', 'test'];
const found = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) found.push(path);
  }
}
for (const root of roots) walk(root);
process.stdout.write(found.sort().join(' ') + '\n');
