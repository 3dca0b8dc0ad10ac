import { ConfigError, loadConfig, readEnvironment, type Config } from './config';
import { ADMIN_HELP } from './cli/admin-help';
import { apiKeys, keysSigner, NoSigningKeyError } from './cli/embedded';
import type { Signer } from './crypto/signer';
import { keysGenerate, KEYS_GENERATE_HELP } from './cli/keys';
import { startupErrorLines } from './cli/startup-errors';
import { VERSION } from './version';

const HELP: Record<string, string> = {
  main: `Usage: gotrue <command>

Commands:
  serve                   start the API (the default command)
  migrate [up|down|status] apply pending migrations (up, the default), revert the last one, or list them
  keys                    print anon and service_role API keys signed by the configured signing key
  keys generate --alg A   print a new signing key (ES256, RS256 or EdDSA) for GOTRUE_JWT_KEYS
  admin <command>         createuser (adduser), deleteuser, editrole: manage users without the API
  version                 print the version

Configuration comes from the environment and an optional .env file (the environment wins); see example.env.
Without DATABASE_URL the server uses an embedded database in GOTRUE_DB_DATA_DIR (default ./.gotrue-data).`,
  serve: `Usage: gotrue serve

Starts the API on GOTRUE_API_HOST:PORT (default port 8081), with GOTRUE_WORKERS worker processes (default 1).
On Postgres the schema must be migrated first (gotrue migrate); the embedded database migrates itself.
Stops gracefully on SIGTERM or SIGINT.`,
  migrate: `Usage: gotrue migrate [up|down|status]

  up      apply every pending migration (default; safe to run from several processes at once)
  down    revert the most recent migration
  status  list migrations and when each was applied`,
  keys: `Usage: gotrue keys
       gotrue keys generate --alg ES256|RS256|EdDSA

Prints the anon and service_role API keys (JWTs) signed by the key serve signs with: the GOTRUE_JWT_KEYS key
with "sign" in its key_ops when one is configured, else GOTRUE_JWT_SECRET (HS256), else the secret serve generated
in the embedded data folder (GOTRUE_DB_DATA_DIR, default ./.gotrue-data). It reads the configuration serve reads
(environment and ./.env), needs no database and never creates a secret: with none to be found it says where it
looked and exits 1. On Postgres, GOTRUE_JWT_SECRET or GOTRUE_JWT_KEYS is all it requires.

${KEYS_GENERATE_HELP}`,
  admin: ADMIN_HELP,
  version: `Usage: gotrue version`,
};

/** The configuration this run loaded, so a startup failure can name the setting behind it. */
let loaded: Config | undefined;

function configOrExit(purpose: 'serve' | 'keys' = 'serve'): Config {
  try {
    loaded = loadConfig(readEnvironment(), { purpose });
    return loaded;
  } catch (err) {
    if (err instanceof ConfigError) exitWith(err);
    throw err;
  }
}

/** Every startup failure: one line per problem on stderr, naming the setting and the fix; exit 1. */
function exitWith(err: unknown): never {
  process.stderr.write(startupErrorLines(err, loaded).map((line) => `gotrue: ${line}\n`).join(''));
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP[rest[0] ?? 'main'] ?? HELP.main);
    return;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(HELP[command] ?? HELP.main);
    return;
  }
  switch (command) {
    case 'version':
      console.log(VERSION);
      return;
    case 'serve': {
      // Commands load their modules when run, so version, help and keys start without the app (~0.6 s, not ~2 s).
      const config = configOrExit();
      // Tracing patches http, express and pg as they load: it starts first, and only when enabled.
      if (config.tracing.enabled) await (await import('./observability/tracing')).startTracing(config);
      return (await import('./cli/serve')).serve(config);
    }
    case 'migrate': {
      const action = rest[0] ?? 'up';
      if (action !== 'up' && action !== 'down' && action !== 'status') {
        process.stderr.write(`gotrue migrate: unknown action "${action}"\n\n${HELP.migrate}\n`);
        process.exit(2);
      }
      return (await import('./cli/migrate')).migrate(configOrExit(), action);
    }
    case 'keys': {
      if (rest[0] === 'generate') {
        process.exitCode = keysGenerate(rest.slice(1));
        return;
      }
      if (rest.length > 0) {
        process.stderr.write(`gotrue keys: unknown argument "${rest[0]}"\n\n${HELP.keys}\n`);
        process.exit(2);
      }
      let signer: Signer;
      try {
        signer = keysSigner(configOrExit('keys'));
      } catch (err) {
        if (!(err instanceof NoSigningKeyError)) throw err;
        process.stderr.write(`gotrue keys: ${err.message}\n`);
        process.exit(1);
      }
      const { anon, serviceRole } = await apiKeys(signer);
      console.log(`anon: ${anon}\nservice_role: ${serviceRole}`);
      return;
    }
    case 'admin':
      process.exitCode = await (await import('./cli/admin')).admin(configOrExit(), rest);
      return;
    default:
      process.stderr.write(`gotrue: unknown command "${command}"\n\n${HELP.main}\n`);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch(exitWith);
