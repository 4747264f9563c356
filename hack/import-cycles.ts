/**
 * `npm run lint` fails on an import cycle between the project's own TypeScript files, so the layers
 * stay layered: the CRD's types at the bottom, then builders, rollout and verification, then the
 * controller. Type-only imports count too: a cycle of types is a cycle of concepts.
 *
 * Usage: node hack/import-cycles.ts [dir...], from the repository's root (default dirs: the source trees
 * below). Prints each cycle as
 * `a.ts → b.ts → a.ts` and exits 1 when there is one. Only relative specifiers and `#common/*` are
 * followed; packages are outside the graph. Runs with Node 24 (type stripping).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const SOURCE_DIRS = ['api/src', 'operator/src', 'common/src', 'bench', 'test', 'hack', 'deploy'];
const SKIP = new Set(['node_modules', 'dist', 'tools', '.cluster']);

/** Every .ts file below `dir`, skipping build output, dependencies and the Go tool trees. */
function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    if (SKIP.has(entry)) return [];
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return entry.endsWith('.ts') ? [path] : [];
  });
}

/** The file a specifier names (the sources import `./x.js` for `./x.ts`), or undefined for a package. */
function resolveImport(root: string, from: string, specifier: string): string | undefined {
  let base: string;
  if (specifier.startsWith('#common/')) base = join(root, 'common/src', specifier.slice('#common/'.length));
  else if (specifier.startsWith('.')) base = resolve(dirname(from), specifier);
  else return undefined;
  const stem = base.replace(/\.(js|ts)$/, '');
  for (const candidate of [`${stem}.ts`, `${stem}.d.ts`, join(stem, 'index.ts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** File → the project files it imports (static, type-only, re-exports and dynamic imports). */
export function importGraph(root: string, dirs: string[] = SOURCE_DIRS): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of dirs.flatMap((dir) => tsFiles(join(root, dir)))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map(({ fileName }) => resolveImport(root, file, fileName))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/**
 * One cycle per strongly connected component (Tarjan), each as a path that starts and ends at the
 * same file, with paths relative to `root`, sorted so the output is stable.
 */
export function findCycles(root: string, dirs: string[] = SOURCE_DIRS): string[][] {
  const graph = importGraph(root, dirs);
  const seen = new Map<string, { index: number; low: number }>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];

  const visit = (file: string): { index: number; low: number } => {
    const node = { index: seen.size, low: seen.size };
    seen.set(file, node);
    stack.push(file);
    onStack.add(file);
    for (const target of graph.get(file) ?? []) {
      const known = seen.get(target);
      if (known === undefined) node.low = Math.min(node.low, visit(target).low);
      else if (onStack.has(target)) node.low = Math.min(node.low, known.index);
    }
    if (node.low === node.index) {
      const component = stack.splice(stack.indexOf(file));
      for (const member of component) onStack.delete(member);
      const importsItself = graph.get(file)?.includes(file) ?? false;
      if (component.length > 1 || importsItself) components.push(component);
    }
    return node;
  };
  for (const file of [...graph.keys()].sort()) if (!seen.has(file)) visit(file);

  return components
    .map((component) => cycleWithin(graph, component).map((file) => relative(root, file)))
    .sort((a, b) => a.join().localeCompare(b.join()));
}

/** A shortest cycle through the component's first file (in sorted order), by breadth-first search. */
function cycleWithin(graph: Map<string, string[]>, component: string[]): string[] {
  const members = new Set(component);
  const start = [...component].sort()[0] ?? '';
  const cameFrom = new Map<string, string>([[start, start]]);
  const queue = [start];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const target of graph.get(file) ?? []) {
      if (target === start) {
        const path: string[] = [];
        for (let at = file; at !== start; at = cameFrom.get(at) ?? start) path.unshift(at);
        return [start, ...path, start];
      }
      if (members.has(target) && !cameFrom.has(target)) {
        cameFrom.set(target, file);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.cwd();
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : SOURCE_DIRS;
  const cycles = findCycles(root, dirs);
  for (const cycle of cycles) process.stderr.write(`import cycle: ${cycle.join(' → ')}\n`);
  if (cycles.length > 0) {
    process.stderr.write(`${cycles.length} import cycle(s); move the shared part to the lower layer.\n`);
    process.exit(1);
  }
}
