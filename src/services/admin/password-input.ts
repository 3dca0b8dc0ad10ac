import { importedHashProblem } from '../../crypto/imported-hash';
import type { Deps } from '../../deps';
import { badRequest } from '../../errors/api-error';
import { ErrorCodes } from '../../errors/codes';
import { assertAcceptablePassword, assertStrongPassword } from '../../domain/password-policy';

/**
 * What to store in encrypted_password for an admin's `password` or `password_hash` (never both): a new argon2id
 * hash of the password (after the policy check), or the imported hash as given once its format is known to verify
 * — it is replaced by argon2id at the user's first successful sign-in. undefined = neither was given. With
 * `leakCheck` (an admin update, as GoTrue's adminUserUpdate) the password is also checked against HIBP when enabled;
 * GoTrue's admin create checks nothing, so an import of existing users is not refused for a leaked password.
 */
export async function encryptedPasswordFrom(
  deps: Pick<Deps, 'hasher' | 'config' | 'pwnedPasswords' | 'logger'>,
  input: { password?: string; passwordHash?: string },
  opts: { leakCheck?: boolean } = {},
): Promise<string | undefined> {
  if (input.password !== undefined && input.passwordHash !== undefined) {
    throw badRequest(ErrorCodes.validationFailed, 'Only a password or a password hash should be provided');
  }
  if (input.passwordHash !== undefined) {
    const problem = importedHashProblem(input.passwordHash);
    if (problem) throw badRequest(ErrorCodes.validationFailed, `Invalid password hash: ${problem}`);
    return input.passwordHash;
  }
  if (input.password !== undefined) {
    if (opts.leakCheck) await assertStrongPassword(deps, input.password);
    else assertAcceptablePassword(deps.config.password, input.password);
    return deps.hasher.hash(input.password);
  }
  return undefined;
}
