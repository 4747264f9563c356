// hack/lib/real-node.sh: `up` with the real node's bridge already on the host. A node whose processes
// were killed before its `down` (a CI job cut off, a machine's session ended) is torn down and `up`
// carries on; a node that still runs is never touched. Each case runs the library in new network and
// PID namespaces (unshare), so the bridge and the "node processes" it sees are the case's own, and with
// the node's address, cgroup and iptables names changed so that nothing of a real node on this host
// matches.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const library = join(root, 'hack/lib/real-node.sh');
const isRoot = process.getuid?.() === 0;

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'real-node-stale-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `snippet` in fresh namespaces after sourcing the library, with the stubs cluster.sh provides. */
function run(snippet: string): { code: number | null; out: string; err: string } {
  const script = [
    'log() { echo "cluster: $*" >&2; }',
    'die() { echo "cluster: $*" >&2; exit 1; }',
    'pid_of() { return 1; }',
    `state=${dir}/state`,
    `. ${library}`,
    `node_owner_file=${dir}/owner node_ip=10.250.0.1 node_cgroup_root=/helloworld-node-test-${process.pid}`,
    'node_comment=helloworld-node-test node_cni_network=helloworld-test',
    snippet,
  ].join('\n');
  const namespaces = ['--net', '--pid', '--fork', '--mount-proc', ...(isRoot ? [] : ['--map-root-user'])];
  const result = spawnSync('unshare', [...namespaces, 'bash', '--norc', '--noprofile', '-c', script], {
    encoding: 'utf8',
  });
  return { code: result.status, out: result.stdout.trim(), err: result.stderr.trim() };
}

const bridgeShown = 'ip link show hwo0 >/dev/null 2>&1 && echo bridge-still-there || echo bridge-gone';

it('does nothing when no bridge is there', () => {
  expect(run(`node_reclaim_stale; ${bridgeShown}`)).toEqual({ code: 0, out: 'bridge-gone', err: '' });
});

it('tears down a node whose processes are gone, names its state, and lets up carry on', () => {
  writeFileSync(join(dir, 'owner'), `${dir}/old-state\n`);
  // What a killed node leaves: its bridge, and mounts under its state directory (a pod's volume).
  const { code, out, err } = run(
    [
      'ip link add hwo0 type bridge',
      `mkdir -p ${dir}/old-state/node/volume && mount -t tmpfs none ${dir}/old-state/node/volume`,
      'node_reclaim_stale',
      'echo reclaimed',
      bridgeShown,
      `findmnt -rn -o TARGET | grep -c ${dir}/old-state || true`,
    ].join('\n'),
  );
  expect(code).toBe(0);
  expect(err).toContain(`a real node of ${dir}/old-state was not torn down and none of its processes runs`);
  expect(err).not.toMatch(/command not found|No such file/);
  expect(out).toBe('reclaimed\nbridge-gone\n0');
  expect(existsSync(join(dir, 'owner'))).toBe(false);
});

it('refuses, and touches nothing, while a node process still runs', () => {
  writeFileSync(join(dir, 'owner'), `${dir}/other-state\n`);
  // A process that looks like a running kubelet; the pattern is split so this shell's own command line
  // does not match it.
  const { code, out, err } = run(
    [
      'ip link add hwo0 type bridge',
      'cfg=/elsewhere/node/kubelet',
      '(exec -a "kubelet --config=$cfg/config.yaml" sleep 30) &',
      'sleep 0.2',
      `(node_reclaim_stale); echo "exit $?"; ${bridgeShown}`,
      'kill %1',
    ].join('\n'),
  );
  expect(code).toBe(0);
  expect(err).toContain(`another real node runs on this host (state: ${dir}/other-state)`);
  expect(err).toContain(`CLUSTER_STATE_DIR=${dir}/other-state CLUSTER_NODE=real hack/cluster.sh down`);
  expect(out).toBe('exit 1\nbridge-still-there');
  expect(existsSync(join(dir, 'owner'))).toBe(true);
});
