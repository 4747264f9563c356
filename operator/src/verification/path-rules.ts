/**
 * Which request paths may be sent to a pod through the API server's proxy. The operator sends them with
 * its own credentials, so a path that a URL parser, the API server or a proxy could normalise into
 * another place (`/../../api/v1/...`) would let a tenant act as the operator. The CRD rejects such paths
 * at admission with the same rules (crds/hello.dev_helloworlds.yaml); this copy refuses them again before
 * any request, in case the installed CRD is old or was edited.
 */

export const MAX_PATH_LENGTH = 2048;

/** Characters of a path segment (RFC 3986 pchar without '%'), and an escape `%XX`. */
const PCHAR = "(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})";

/**
 * The allow-list, as in the CRD's OpenAPI `pattern`: a single "/", then path characters and "/", then an
 * optional query that may also hold "/" and "?".
 */
export const PATH_PATTERN_SOURCE = `^/(?:${PCHAR}(?:${PCHAR}|/)*)?(?:\\?(?:${PCHAR}|[/?])*)?$`;
const PATH_PATTERN = new RegExp(PATH_PATTERN_SOURCE);

/** The part before the query: the only part any parser or proxy normalises. */
function pathPart(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

/**
 * Why a smoke-check (or any proxied) path is refused, or undefined when it is safe. The reasons are
 * checked in order; the first that applies is given, phrased to follow "path ... refused: ".
 */
export function unsafePathReason(path: string): string | undefined {
  if (path.length > MAX_PATH_LENGTH) return `longer than ${MAX_PATH_LENGTH} characters`;
  if (/[^\x21-\x7e]/.test(path)) return 'whitespace, control or non-ASCII characters';
  if (!path.startsWith('/')) return 'it does not start with /';
  if (path.startsWith('//')) return 'it starts with // (which names another host)';
  if (path.includes('#')) return 'a # fragment';
  if (path.includes('\\')) return 'a backslash (URL parsers read it as /)';
  if (/%(?![0-9A-Fa-f]{2})/.test(path)) return 'a % that is not followed by two hex digits';
  const beforeQuery = pathPart(path);
  if (/%25/i.test(beforeQuery)) return 'double encoding (%25 before the query), which hides dot segments';
  if (/%2e/i.test(beforeQuery)) return 'dot segments (an encoded dot, %2e, before the query)';
  if (/%2f/i.test(beforeQuery))
    return 'an encoded slash (%2f before the query), which the API server may decode';
  if (/%5c/i.test(beforeQuery)) return 'an encoded backslash (%5c before the query)';
  if (/\/\.\.?(?:\/|$)/.test(beforeQuery)) return 'dot segments (a . or .. segment)';
  if (!PATH_PATTERN.test(path)) return 'a character that is not allowed in a URL path or query';
  return undefined;
}
