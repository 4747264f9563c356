// hack/ensure-kubectl.sh chooses a kubectl: the one on PATH when its client version is within one
// minor version of the pinned Kubernetes release, else the one built from the pinned module into the
// cache. The kubectl on PATH is a fake script that prints a given version; the cached one is a fake
// file in a temporary cache, so nothing is built here (the build itself: docs/local-cluster.md).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinnedKubernetesVersion } from '../test/support/pinned-kubernetes.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const script = join(root, 'hack/ensure-kubectl.sh');
const pinned = pinnedKubernetesVersion(root);
const minor = Number(pinned.split('.')[1]);

let dir: string;
let tools: string; // what the script and the fakes need, without kubectl or go
let cache: string; // HELLO_CACHE_DIR
let cachedKubectl: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ensure-kubectl-'));
  tools = join(dir, 'tools');
  mkdirSync(tools);
  for (const tool of ['bash', 'awk', 'sed', 'head', 'dirname', 'cat']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(tools, tool));
  }
  cache = join(dir, 'cache');
  cachedKubectl = join(cache, 'bin', `kubectl-${pinned}`);
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A directory holding a fake kubectl whose `version --client -o json` prints `gitVersion`. */
function fakeKubectl(gitVersion: string): string {
  const bin = join(dir, `kubectl-${gitVersion}`);
  mkdirSync(bin);
  const json = JSON.stringify({ clientVersion: { gitVersion } }, null, 2);
  writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\ncat <<'EOF'\n${json}\nEOF\n`);
  chmodSync(join(bin, 'kubectl'), 0o755);
  return bin;
}

function withCachedKubectl(): void {
  mkdirSync(cachedKubectl, { recursive: true });
  writeFileSync(join(cachedKubectl, 'kubectl'), '#!/bin/sh\n');
  chmodSync(join(cachedKubectl, 'kubectl'), 0o755);
}

function ensure(...path: string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { HOME: dir, HELLO_CACHE_DIR: cache, PATH: [...path, tools].join(':') };
  const run = spawnSync(join(tools, 'bash'), [script], { env, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('hack/ensure-kubectl.sh', () => {
  test.each([`v1.${minor - 1}.0`, pinned, `v1.${minor + 1}.3-eks-4a1b2c`])(
    'keeps a kubectl %s on PATH, one minor version from the pinned release at most',
    (version) => {
      withCachedKubectl();
      const bin = fakeKubectl(version);
      expect(ensure(bin)).toEqual({ status: 0, stdout: `${bin}\n`, stderr: '' });
    },
  );

  test.each([`v1.${minor - 2}.9`, `v1.${minor + 2}.0`, 'v0.0.0-master+$Format:%H$'])(
    'uses the kubectl built from the pinned module when the one on PATH is %s',
    (version) => {
      withCachedKubectl();
      expect(ensure(fakeKubectl(version))).toEqual({ status: 0, stdout: `${cachedKubectl}\n`, stderr: '' });
    },
  );

  test('uses the built kubectl when none is on PATH, or when the one on PATH does not answer', () => {
    withCachedKubectl();
    expect(ensure()).toEqual({ status: 0, stdout: `${cachedKubectl}\n`, stderr: '' });
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'kubectl'), '#!/bin/sh\necho "no such command" >&2\nexit 1\n');
    chmodSync(join(broken, 'kubectl'), 0o755);
    expect(ensure(broken).stdout).toBe(`${cachedKubectl}\n`);
  });

  test('says what to install when the kubectl on PATH is too old and there is no go to build one', () => {
    const result = ensure(fakeKubectl(`v1.${minor - 2}.4`));
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`is v1.${minor - 2}.4, outside v1.${minor - 1} to v1.${minor + 1}`);
    expect(result.stderr).toContain(`go is not on PATH to build kubectl ${pinned}`);
    expect(result.stderr).toContain('install Go 1.26 or newer');
  });
});
