import type { Config } from '../config';
import type { UserRow } from '../db/schema';
import { buildDeps, type Deps } from '../deps';
import { ApiError, notFound } from '../errors/api-error';
import { ErrorCodes } from '../errors/codes';
import type { AdminActor } from '../services/admin/actor';
import { adminCreateUser } from '../services/admin/create-user';
import { adminDeleteUser } from '../services/admin/delete-user';
import { adminUpdateUser } from '../services/admin/update-user';
import { isUuid } from '../domain/identifiers';
import type { RequestMeta } from '../domain/request-meta';
import { findUserByEmail, findUserWithRelations } from '../domain/user-records';
import { resolveSecret } from './embedded';
import { createLogger } from './logger';
import { ADMIN_HELP } from './admin-help';
import { openConfiguredDatabase, prepareSchema } from './database';


/** Audit rows written from the console name this author, as rows from the API name the admin role. */
const CLI_ACTOR: AdminActor = { role: 'gotrue-cli' };

class UsageError extends Error {}

/** Splits `--flag`, `--aud value` / `--aud=value` from positional arguments. */
function parseArgs(args: string[]): { positional: string[]; flags: Set<string>; aud?: string } {
  const positional: string[] = [];
  const flags = new Set<string>();
  let aud: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--aud' || a === '-a') {
      aud = args[++i];
      if (aud === undefined) throw new UsageError('--aud needs a value');
    } else if (a.startsWith('--aud=')) aud = a.slice('--aud='.length);
    else if (a.startsWith('--')) flags.add(a.slice(2));
    else positional.push(a);
  }
  return { positional, flags, aud };
}

async function findTarget(deps: Deps, target: string, aud: string): Promise<UserRow | undefined> {
  const byEmail = target.includes('@') ? await findUserByEmail(deps.db, target, aud) : undefined;
  if (byEmail) return byEmail;
  return isUuid(target) ? findUserWithRelations(deps.db, target.toLowerCase()) : undefined;
}

/** A command checks its arguments first (no database is opened for a usage error), then runs. */
type Command = (a: ReturnType<typeof parseArgs>) => (deps: Deps, meta: RequestMeta) => Promise<string>;

const createUser: Command = ({ positional, flags }) => {
  const [email, password, role] = positional;
  if (email === undefined || password === undefined || positional.length > 3) {
    throw new UsageError('createuser needs <email> <password> [role]');
  }
  for (const f of flags) if (f !== 'confirm' && f !== 'admin') throw new UsageError(`unknown flag --${f}`);
  return async (deps, meta) => {
    const user = await adminCreateUser(deps, meta, CLI_ACTOR, {
      email,
      password,
      emailConfirm: flags.has('confirm') || deps.config.mailer.autoconfirm,
      role: role ?? (flags.has('admin') ? deps.config.jwt.adminGroupName : undefined),
    });
    return `Created user: ${user.email} (id ${user.id}, role ${user.role})`;
  };
};

const deleteUser: Command = ({ positional, flags }) => {
  const [target] = positional;
  if (target === undefined || positional.length !== 1 || flags.size > 0) throw new UsageError('deleteuser needs <email|id>');
  return async (deps, meta) => {
    const user = await findTarget(deps, target, meta.aud);
    if (!user) throw notFound(ErrorCodes.userNotFound, `User not found: ${target}`);
    await adminDeleteUser(deps, meta, CLI_ACTOR, user.id, { soft: false });
    return `Removed user: ${target} (id ${user.id})`;
  };
};

const editRole: Command = ({ positional, flags }) => {
  const [target, role] = positional;
  if (target === undefined || role === undefined || positional.length !== 2 || flags.size > 0) {
    throw new UsageError('editrole needs <email|id> <role>');
  }
  return async (deps, meta) => {
    const user = await findTarget(deps, target, meta.aud);
    if (!user) throw notFound(ErrorCodes.userNotFound, `User not found: ${target}`);
    const updated = await adminUpdateUser(deps, meta, CLI_ACTOR, user.id, { role });
    return `Role of ${target} (id ${user.id}) is now ${updated.role}`;
  };
};

const COMMANDS: Record<string, Command> = { createuser: createUser, adduser: createUser, deleteuser: deleteUser, editrole: editRole };

/**
 * `./gotrue admin …`: GoTrue's operator commands, calling the same services as the admin API (same validation,
 * same transactions, audit rows by "gotrue-cli"). Returns the exit status.
 */
export async function admin(baseConfig: Config, args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const command = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name]! : undefined;
  let parsed: ReturnType<typeof parseArgs>;
  let run: ReturnType<Command>;
  try {
    if (!command) throw new UsageError(name === undefined ? 'a command is required' : `unknown command "${name}"`);
    parsed = parseArgs(rest);
    run = command(parsed);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`gotrue admin: ${err.message}\n\n${ADMIN_HELP}\n`);
    return 2;
  }
  // stdout carries the command's result; info-level log lines (the embedded database opening) would clutter it.
  const logger = createLogger({ log: { level: baseConfig.log.level === 'info' ? 'warn' : baseConfig.log.level } });
  // Opening the embedded database takes its folder's lock: while `serve` has it, this throws before any write.
  const database = await openConfiguredDatabase(baseConfig);
  try {
    const { config } = resolveSecret(baseConfig);
    await prepareSchema(database, logger);
    const deps = buildDeps(config, database, logger);
    const meta: RequestMeta = { ip: '', userAgent: null, aud: parsed.aud ?? config.jwt.aud };
    console.log(await run(deps, meta));
    return 0;
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) {
      process.stderr.write(`gotrue admin: ${err.message} (${err.code})\n`);
      return 1;
    }
    throw err;
  } finally {
    await database.destroy();
  }
}
