/**
 * Smoke-check paths for tests of the path rules: the CRD's (on the API server) and the operator's own.
 * Each hostile path tries to make the API server's pod proxy send the operator's request elsewhere.
 */

/** The CRD's messages (crds/hello.dev_helloworlds.yaml), by rule. */
export const Admission = {
  A: 'smoke check path must start with a single /',
  B: 'smoke check path must not contain whitespace, control or non-ASCII characters',
  C: "smoke check path must not contain '#'",
  D: 'smoke check path must not contain a backslash',
  E: 'smoke check path must not contain an encoded dot, slash, backslash or percent sign',
  F: 'smoke check path must not contain . or .. segments',
  G: 'smoke check path must write % only to start an escape such as %20',
  H: 'smoke check path may contain only ASCII letters, digits and',
} as const;

/** [path, what the operator's refusal must say, what admission must say]. */
export const HOSTILE_PATHS: readonly (readonly [string, RegExp, string])[] = [
  ['/../../../../api/v1/namespaces/kube-system/configmaps', /dot segments/, Admission.F],
  ['/hello/../../../../api/v1/namespaces/kube-system/secrets', /dot segments/, Admission.F],
  ['/./readyz', /dot segments/, Admission.F],
  ['/hello/..', /dot segments/, Admission.F],
  ['/hello/.', /dot segments/, Admission.F],
  ['/..?x=1', /dot segments/, Admission.F],
  ['/%2e%2e/%2e%2e/api/v1/namespaces/kube-system/configmaps', /dot segments/, Admission.E],
  ['/%2E%2e/api', /dot segments/, Admission.E],
  ['/.%2e/api', /dot segments/, Admission.E],
  ['/%2e./api', /dot segments/, Admission.E],
  ['/%252e%252e/api', /double encoding/, Admission.E],
  ['/hello\\..\\..\\api', /backslash/, Admission.D],
  ['/hello/%5c..%5capi', /encoded backslash/, Admission.E],
  ['/hello%2f..%2f..%2fapi', /encoded slash/, Admission.E],
  ['/hello/%2F', /encoded slash/, Admission.E],
  ['hello/smokecheck', /does not start with \//, Admission.A],
  ['', /does not start with \//, Admission.A],
  ['http://evil.example/', /does not start with \//, Admission.A],
  ['//evil.example/api', /starts with \/\//, Admission.A],
  ['/hello smoke', /whitespace/, Admission.B],
  ['/hello\tsmoke', /whitespace/, Admission.B],
  ['/hello\n/../api', /whitespace/, Admission.B],
  ['/hello\u0000', /control/, Admission.B],
  ['/hello\u007f', /control/, Admission.B],
  ['/hello/\u2024\u2024/api', /non-ASCII/, Admission.B],
  ['/\uff0e\uff0e/api', /non-ASCII/, Admission.B],
  ['/hello#fragment', /# fragment/, Admission.C],
  ['/hello?x=1#/../../api', /# fragment/, Admission.C],
  ['/hello/%zz', /% that is not followed by two hex digits/, Admission.G],
  ['/hello/<script>', /not allowed in a URL path/, Admission.H],
];

/** Paths that must still be accepted. */
export const SAFE_PATHS: readonly string[] = [
  '/',
  '/readyz',
  '/metrics',
  '/hello/smokecheck',
  '/hello/smoke-test',
  '/hello/john.doe',
  '/hello/...',
  '/hello/x?y=1',
  '/hello/x?y=1&z=two?',
  '/hello/x?next=/a/../b',
  '/hello/x?q=%2e%2e%2f',
  '/hello/a%20b',
  "/hello/~user_1!$&'()*+,;=:@",
];
