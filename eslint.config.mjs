// ESLint with type-aware typescript-eslint rules. Each source tree is linted with the tsconfig that
// builds it (the services', the console's, scripts/tsconfig.json), found by the project service.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const specs = [
  '**/*.spec.ts',
  '**/*.e2e-spec.ts',
  'test/**/*.ts',
  'apps/*/test/**/*.ts',
  'apps/*/src/**/testing/**/*.ts',
  'libs/testing/**/*.ts',
];

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'test-results/**', 'node_modules/**', '**/*.d.mts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          // Files no tsconfig includes: root config files, and the scripts whose .d.mts shadows them in
          // scripts/tsconfig.json (TypeScript keeps the declaration and drops the .mjs from the program).
          allowDefaultProject: [
            '*.js',
            '*.ts',
            '*.mjs',
            'apps/console/vite.config.ts',
            'apps/usage-tracker/test/*.mjs',
            'scripts/system.mjs',
            'scripts/nats-server-config.mjs',
            'scripts/quickstart-demo.mjs',
            'scripts/run-namespace.mjs',
            'scripts/test-services.mjs',
          ],
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 16,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // Fastify route handlers, Nest lifecycle hooks and mocked services are written `async` because
      // the framework or interface takes a promise; an async function with no await is that form.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
    // Plain JavaScript declares no types: every parsed JSON value and every parameter is `any`, so the
    // no-unsafe-* rules would flag each use of one. The promise and unused-value rules still apply.
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: specs,
    // Specs read HTTP responses, JSON bodies and mock calls, which are `any` by design of the libraries
    // (fetch's json(), jest's mock.calls); the assertions are what check their shape.
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // `expect(service.method).toHaveBeenCalledWith(…)` reads a typed mock's method without calling it:
      // that is how jest asserts on mocks, not a method called with a lost `this`.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    files: ['apps/console/src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
  },
);
