/**
 * The managed Redis's password: how it is generated, and what a password read back from the Secret may
 * look like. It ends up on a `requirepass` line of redis.conf and in the API pods' environment, so
 * anything that could end that line or be parsed by Redis's config reader (a newline, a space, a quote,
 * a backslash) is refused: an edited Secret must not be able to add a directive such as
 * `rename-command` or `slaveof` to the server's configuration.
 */
import { randomBytes } from 'node:crypto';

/** Generated passwords: 24 random bytes in base64url, 32 characters. */
export function generateRedisPassword(): string {
  return randomBytes(24).toString('base64url');
}

export const REDIS_PASSWORD_MIN_LENGTH = 16;
export const REDIS_PASSWORD_MAX_LENGTH = 128;
/** The base64 and base64url alphabets: nothing Redis's config parser or a shell treats specially. */
const ALPHABET = /^[A-Za-z0-9+/=_-]*$/;

/** Why `password` cannot be used, in words a person understands; undefined when it can. */
export function redisPasswordProblem(password: string): string | undefined {
  if (password.length < REDIS_PASSWORD_MIN_LENGTH || password.length > REDIS_PASSWORD_MAX_LENGTH) {
    return `is ${String(password.length)} characters long; it must have ${String(REDIS_PASSWORD_MIN_LENGTH)} to ${String(REDIS_PASSWORD_MAX_LENGTH)}`;
  }
  if (!ALPHABET.test(password)) {
    return 'may only contain letters, digits and + / = _ - (no spaces, newlines, quotes or backslashes, which would change the Redis configuration)';
  }
  return undefined;
}

/** Throws when `password` cannot go into redis.conf: the builders' last line of defence. */
export function assertRedisPassword(password: string): void {
  const problem = redisPasswordProblem(password);
  if (problem !== undefined) throw new Error(`the Redis password ${problem}`);
}
