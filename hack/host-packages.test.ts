// hack/lib/host-packages.sh: which Debian packages this host lacks, and which kind of node `make up`
// starts. Each case runs the library in bash with a PATH of its own, where only the tools a case
// names exist (fake executables; apt-get is a fake that records what it was asked to install), so
// nothing is installed here. Non-root cases run as nobody through setpriv when the tests run as root.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const library = join(root, 'hack/lib/host-packages.sh');
const isRoot = process.getuid?.() === 0;
const which = (tool: string): string =>
  spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();

let dir: string;
let bin: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'host-packages-'));
  chmodSync(dir, 0o755); // nobody runs the library from here too
  bin = join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(which('id'), join(bin, 'id'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Fake executables named `tools` on the case's PATH. */
function fake(...tools: string[]): void {
  for (const tool of tools) {
    writeFileSync(join(bin, tool), `#!${which('bash')}\necho "$0 $*" >>${dir}/calls\n`);
    chmodSync(join(bin, tool), 0o755);
  }
}

/** Runs `snippet` after sourcing the library, with only the case's tools on PATH. */
function run(
  snippet: string,
  options: { asNobody?: boolean } = {},
): { code: number | null; out: string; err: string } {
  const bash = [which('bash'), '--norc', '--noprofile', '-c', `. ${library}; ${snippet}`];
  const argv =
    options.asNobody && isRoot
      ? [which('setpriv'), '--reuid=65534', '--regid=65534', '--clear-groups', ...bash]
      : bash;
  const result = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    env: { PATH: bin, HOME: dir },
    cwd: dir,
  });
  return { code: result.status, out: result.stdout.trim(), err: result.stderr.trim() };
}

const calls = (): string => readFileSync(join(dir, 'calls'), 'utf8');

describe('missing_packages', () => {
  it('names the package of every command the host lacks', () => {
    expect(run('missing_packages base').out).toBe('redis-server openssl curl');
    const real = run('missing_packages real').out.split(' ');
    expect(real).toEqual(
      expect.arrayContaining([
        'redis-server',
        'openssl',
        'curl',
        'runc',
        'iptables',
        'conntrack',
        'docker.io',
        'debootstrap',
        'gcc',
      ]),
    );
  });

  it('names nothing the host has', () => {
    fake(
      'redis-server',
      'openssl',
      'curl',
      'runc',
      'ip',
      'iptables',
      'conntrack',
      'dockerd',
      'debootstrap',
      'gcc',
    );
    expect(run('missing_packages base').out).toBe('');
    expect(run('missing_packages real').out).not.toMatch(
      /redis-server|openssl|curl|runc|iproute2|iptables|conntrack|docker\.io|debootstrap|gcc/,
    );
  });
});

describe('choose_node', () => {
  it('refuses a kind of node it does not know, saying which ones it knows', () => {
    const result = run('choose_node bogus');
    expect(result).toMatchObject({ code: 1, out: '' });
    expect(result.err).toBe("up: NODE must be real, simulated or auto, not 'bogus'");
  });

  it('gives simulated nodes when asked, whoever runs it', () => {
    expect(run('choose_node simulated')).toMatchObject({ code: 0, out: 'simulated', err: '' });
    expect(run('choose_node simulated', { asNobody: true })).toMatchObject({ code: 0, out: 'simulated' });
  });

  it('auto: without root, simulated nodes, with one line saying how to get real pods', () => {
    expect(run('choose_node auto', { asNobody: true })).toEqual({
      code: 0,
      out: 'simulated',
      err: 'up: simulated nodes: real pods need root; for them, run: sudo make up NODE=real',
    });
  });

  it('real: without root, a refusal that says what to run', () => {
    expect(run('choose_node real', { asNobody: true })).toEqual({
      code: 1,
      out: '',
      err: 'up: a real node needs root (containers, mounts, iptables): sudo make up NODE=real',
    });
  });

  (isRoot ? it : it.skip)('auto as root, packages missing: simulated nodes, and the one apt-get line', () => {
    const result = run('choose_node auto');
    expect(result.out).toBe('simulated');
    expect(result.err).toMatch(
      /^up: simulated nodes: real pods need these Debian packages: apt-get install -y redis-server openssl curl runc iproute2 iptables conntrack docker\.io debootstrap gcc\b.*\(or: make up NODE=real installs them\)$/,
    );
  });

  (isRoot ? it : it.skip)(
    'real as root, packages missing: installs exactly those, then gives the real node',
    () => {
      fake('apt-get');
      const result = run('choose_node real');
      expect(result.out).toBe('real');
      expect(result.err).toMatch(
        /^up: installing the Debian packages a real node needs: redis-server openssl curl runc /,
      );
      const [update, install] = calls().trim().split('\n');
      expect(update).toBe(`${bin}/apt-get update -qq`);
      expect(install).toMatch(
        new RegExp(
          `^${bin}/apt-get install -y -qq --no-install-recommends redis-server openssl curl runc iproute2 iptables conntrack docker\\.io debootstrap gcc`,
        ),
      );
    },
  );
});
