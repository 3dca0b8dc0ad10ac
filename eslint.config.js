import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const HANDLERS = ['**/api', '**/api/**', '**/features/**', '**/routes', '**/app', '!@opentelemetry/**'];
const FLOWS = ['**/services/**'];
const HTTP = ['**/http/**'];
const DOMAIN = ['**/domain/**'];
const REPOSITORIES = ['**/db/repositories/**', '**/db/repositories'];
const EXPRESS = { name: 'express', message: 'Express stops at the handlers: parse the request there and pass typed input.' };

/** One rule entry per floor: what its files may not import, and why. */
function floors() {
  const rule = (files, groups, message, paths = [], ignores = []) => ({
    files,
    ignores,
    rules: { 'no-restricted-imports': ['error', { paths, patterns: [{ group: groups, message }] }] },
  });
  return [
    rule(['src/api/**/*.ts', 'src/features/**/*.ts', 'src/cli/**/*.ts', 'src/main.ts', 'src/routes.ts', 'src/app.ts'], REPOSITORIES,
      'Only src/domain/ imports repositories (the kernel alone touches the database).'),
    rule(['src/services/**/*.ts'], [...REPOSITORIES, ...HANDLERS],
      'Flows call src/domain/, never repositories, and never a handler.', [EXPRESS]),
    rule(['src/http/**/*.ts'], [...HANDLERS, ...FLOWS, ...REPOSITORIES],
      'src/http/ is a toolkit below the handlers and flows; it reaches the database through src/domain/.'),
    rule(['src/domain/**/*.ts'], [...HANDLERS, ...FLOWS, ...HTTP],
      'src/domain/ is the HTTP-free kernel: it never imports handlers, flows or src/http/.', [EXPRESS]),
    rule(['src/db/**/*.ts'], [...HANDLERS, ...FLOWS, ...HTTP, ...DOMAIN],
      'src/db/ is the ground floor of data: it imports no floor above it.'),
    rule(['src/crypto/**/*.ts', 'src/mailer/**/*.ts', 'src/sms/**/*.ts', 'src/external/**/*.ts', 'src/config/**/*.ts', 'src/errors/**/*.ts', 'src/observability/**/*.ts'],
      [...HANDLERS, ...FLOWS, ...HTTP, ...DOMAIN, ...REPOSITORIES],
      'Adapters and the ground floor import no floor above them.', [EXPRESS]),
    rule(['src/security/**/*.ts'], [...HANDLERS, ...FLOWS, ...HTTP, ...DOMAIN, ...REPOSITORIES],
      'src/security/ (CAPTCHA, leaked passwords) is an adapter: it imports no floor above it.', [EXPRESS]),
  ];
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.gotrue-data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Only src/config reads the environment (house rule 4).
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/main.ts', 'src/cli/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration through src/config.' }],
    },
  },
  // The floors of STYLE.md, enforced: imports only go down. One `no-restricted-imports` per file group (flat config
  // replaces a rule's options per file rather than merging them), built by `floors()`.
  ...floors(),
  {
    // Query builders and raw SQL live only in src/db/: everything else calls a repository through src/domain/.
    files: ['src/**/*.ts'],
    ignores: ['src/db/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.type='MemberExpression'][callee.property.name=/^(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto|selectNoFrom)$/]",
          message: 'Query builders live only in src/db/ (add a repository function).',
        },
        { selector: "TaggedTemplateExpression[tag.name='sql']", message: 'Raw SQL lives only in src/db/.' },
      ],
    },
  },

);
