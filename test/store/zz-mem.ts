import { openSqliteObjectStore } from '../../src/store/sqlite/sqlite-object-store.ts';
import { generateIndicators } from './generate-indicators.ts';
const store = openSqliteObjectStore({ path: ':memory:' });
await store.createCollection({ id: 'c', title: 'c' }, new Date());
const xs = generateIndicators(100000, 1);
const t = performance.now();
for (let i = 0; i < xs.length; i += 1000) await store.addObjects('c', xs.slice(i, i + 1000));
console.log('memory rate', Math.round(100000 / ((performance.now() - t) / 1000)));
