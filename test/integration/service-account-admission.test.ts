// spec.serviceAccount on a real API server: admission rejects the combinations and values that make no
// sense, each with a message that says what to do, and accepts the ones docs/crd.md describes.
import { spawnSync } from 'node:child_process';
import type { HelloWorldSpec } from '../../operator/src/crd/types.js';
import {
  createTestNamespace,
  deleteTestNamespace,
  kubeconfigPath,
  repoRoot,
  waitFor,
} from '../support/cluster.js';
import { helloWorld, installCrd } from '../support/operator.js';

let namespace: string;

/** A server-side dry-run create of a HelloWorld with `serviceAccount`; the API server's answer. */
function dryRun(serviceAccount: unknown): { accepted: boolean; message: string } {
  const hw = helloWorld(namespace, 'sa-admission', {
    serviceAccount: serviceAccount as HelloWorldSpec['serviceAccount'],
  });
  const result = spawnSync(
    'kubectl',
    ['--kubeconfig', kubeconfigPath(), 'create', '--dry-run=server', '-o', 'name', '-f', '-'],
    { cwd: repoRoot, input: JSON.stringify(hw), encoding: 'utf8' },
  );
  return { accepted: result.status === 0, message: `${result.stderr}${result.stdout}` };
}

const ROLE = { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/hello-api' };

beforeAll(async () => {
  installCrd();
  namespace = await createTestNamespace('sa-admission');
  // An updated CRD's schema is served a moment after it is established: wait until this one's is.
  await waitFor(async () => Promise.resolve(dryRun({}).message.includes('serviceAccount must set')), {
    describe: 'the API server to serve the serviceAccount schema',
    timeoutMs: 30_000,
  });
}, 90_000);

afterAll(() => deleteTestNamespace(namespace), 60_000);

describe('admission rejects a serviceAccount that makes no sense, and says why', () => {
  const cases: [string, unknown, string][] = [
    [
      'a name and create: true',
      { name: 'hello-api', create: true },
      'serviceAccount.name and serviceAccount.create: true exclude each other',
    ],
    [
      'an empty block',
      {},
      'serviceAccount must set either name (an existing ServiceAccount) or create: true',
    ],
    ['create: false alone', { create: false }, 'serviceAccount must set either name'],
    ['only automountToken', { automountToken: true }, 'serviceAccount must set either name'],
    [
      'annotations of an existing ServiceAccount',
      { name: 'hello-api', annotations: ROLE },
      'serviceAccount.annotations are set on a created ServiceAccount only (create: true)',
    ],
    [
      'annotations with create: false',
      { create: false, name: 'x', annotations: ROLE },
      'serviceAccount.annotations are set on a created ServiceAccount only',
    ],
    ['an upper-case name', { name: 'Hello-API' }, 'serviceAccount.name must be a ServiceAccount name'],
    [
      'a name with a slash',
      { name: 'kube-system/default' },
      'serviceAccount.name must be a ServiceAccount name',
    ],
    ['an empty name', { name: '' }, 'serviceAccount.name must be a ServiceAccount name'],
    ['a name that is too long', { name: 'a'.repeat(254) }, 'Too long: may not be more than 253'],
    [
      'an annotation key with a space',
      { create: true, annotations: { 'role arn': 'x' } },
      'serviceAccount.annotations keys must be annotation keys',
    ],
    [
      'an annotation key with two slashes',
      { create: true, annotations: { 'a/b/c': 'x' } },
      'serviceAccount.annotations keys must be annotation keys',
    ],
    [
      'an annotation name part of 64 characters',
      { create: true, annotations: { [`example.com/${'n'.repeat(64)}`]: 'x' } },
      'serviceAccount.annotations keys must be annotation keys',
    ],
    [
      "the operator's desired-hash annotation",
      { create: true, annotations: { 'hello.dev/desired-hash': '0000000000000000' } },
      'serviceAccount.annotations must not set hello.dev/ keys: the operator owns them',
    ],
    [
      'too many annotations',
      {
        create: true,
        annotations: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${String(i)}`, 'v'])),
      },
      'must have at most 32 items',
    ],
    [
      'an annotation value over 4096 characters',
      { create: true, annotations: { 'example.com/big': 'x'.repeat(4097) } },
      'Too long: may not be more than 4096',
    ],
    ['create as a string', { create: 'true' }, 'spec.serviceAccount.create: Invalid value: "string"'],
  ];

  it.each(cases)('%s', (_name, serviceAccount, message) => {
    const answer = dryRun(serviceAccount);
    expect(answer.accepted).toBe(false);
    expect(answer.message).toContain(message);
  });
});

describe('admission accepts', () => {
  const cases: [string, unknown][] = [
    ['an existing ServiceAccount', { name: 'hello-api' }],
    ['a dotted name', { name: 'hello.api-1' }],
    ['create: false with a name', { create: false, name: 'hello-api' }],
    ['create with an IRSA role', { create: true, annotations: ROLE }],
    [
      'create with a GKE service account and the token mounted',
      {
        create: true,
        automountToken: true,
        annotations: { 'iam.gke.io/gcp-service-account': 'hello-api@project.iam.gserviceaccount.com' },
      },
    ],
    [
      '32 annotations',
      {
        create: true,
        annotations: Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${String(i)}`, 'v'])),
      },
    ],
  ];

  it.each(cases)('%s', (_name, serviceAccount) => {
    expect(dryRun(serviceAccount)).toMatchObject({ accepted: true });
  });
});
