// runtime/ is a generic controller runtime: it knows Kubernetes, never the HelloWorld. Its source files
// import only each other, #common and packages, and never name the CRD (hello.dev, HelloWorld, the
// helloworld_ metric prefix, the operator's labels); the controller hands those in.
import { readdirSync, readFileSync } from 'node:fs';

const dir = new URL('./', import.meta.url);
const sources = readdirSync(dir)
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
  .map((name) => ({ name, text: readFileSync(new URL(name, dir), 'utf8') }));

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

describe('runtime/ stays generic', () => {
  it('has source files to check', () => {
    expect(sources.map((s) => s.name)).toEqual(
      expect.arrayContaining(['kube.ts', 'informer-factory.ts', 'rest.ts']),
    );
  });

  it.each(sources)('$name imports nothing of the operator outside runtime/', ({ text }) => {
    const outside = [...text.matchAll(IMPORT)]
      .map((m) => m[1] ?? m[2] ?? '')
      .filter((spec) => spec.startsWith('.') && !spec.startsWith('./'));
    expect(outside).toEqual([]);
  });

  it.each(sources)('$name does not name the HelloWorld or its labels', ({ text }) => {
    const mentions = text
      .split('\n')
      .map((line, i) => `${String(i + 1)}: ${line.trim()}`)
      .filter((line) => /hello|app\.kubernetes\.io\//i.test(line));
    expect(mentions).toEqual([]);
  });
});
