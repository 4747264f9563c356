// hack/import-cycles.ts on small fixture trees written to a temporary directory: it must find a cycle
// however the edge is written (type-only, re-export, dynamic, `#common/*`), print it in import order,
// and stay quiet on a layered tree; the script itself must exit 1 on a cycle and 0 without one.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCycles } from './import-cycles.js';

const script = join(dirname(fileURLToPath(import.meta.url)), 'import-cycles.ts');
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'import-cycles-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

/** The layered tree: api at the bottom, verification above it, a controller on top. */
const layered = {
  'src/api/types.ts': `export interface Sample { n: number }\n`,
  'src/api/defaults.ts': `import type { Sample } from './types.js';\nexport const zero: Sample = { n: 0 };\n`,
  'src/verification/types.ts': `import type { Sample } from '../api/types.js';\nexport type S = Sample;\n`,
  'src/controller.ts': `import { zero } from './api/defaults.js';\nimport type { S } from './verification/types.js';\nimport { x } from 'some-package';\nexport const s: S = zero;\n`,
};

describe('findCycles', () => {
  it('finds none in a layered tree', () => {
    write(layered);
    expect(findCycles(root, ['src'])).toEqual([]);
  });

  it('finds a cycle made of type-only imports and prints it in import order', () => {
    write({
      ...layered,
      'src/api/types.ts': `import type { S } from '../verification/types.js';\nexport interface Sample { s?: S }\n`,
    });
    expect(findCycles(root, ['src'])).toEqual([
      ['src/api/types.ts', 'src/verification/types.ts', 'src/api/types.ts'],
    ]);
  });

  it('follows re-exports, dynamic imports, index files and #common/*', () => {
    write({
      'src/a.ts': `export * from './b/index.js';\n`,
      'src/b/index.ts': `export { c } from '#common/c.js';\n`,
      'common/src/c.ts': `export const c = async () => import('../../src/a.js');\n`,
      'src/self.ts': `import { me } from './self.js';\nexport const me = 1;\n`,
    });
    expect(findCycles(root, ['src', 'common/src'])).toEqual([
      ['common/src/c.ts', 'src/a.ts', 'src/b/index.ts', 'common/src/c.ts'],
      ['src/self.ts', 'src/self.ts'],
    ]);
  });

  it('reports each tangle once, through its first file', () => {
    write({
      'src/a.ts': `import './b.js';\nimport './c.js';\n`,
      'src/b.ts': `import './a.js';\nimport './c.js';\n`,
      'src/c.ts': `import './a.js';\n`,
    });
    expect(findCycles(root, ['src'])).toEqual([['src/a.ts', 'src/b.ts', 'src/a.ts']]);
  });
});

describe('the script', () => {
  const run = (): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, [script, 'src'], { cwd: root, encoding: 'utf8' });

  it('exits 1 and names the cycle', () => {
    write({ 'src/a.ts': `import './b.js';\n`, 'src/b.ts': `import type {} from './a.js';\n` });
    const result = run();
    expect(result.stderr).toContain('import cycle: src/a.ts → src/b.ts → src/a.ts');
    expect(result.status).toBe(1);
  });

  it('exits 0 without one', () => {
    write({ 'src/a.ts': `import './b.js';\n`, 'src/b.ts': `export {};\n` });
    const result = run();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
