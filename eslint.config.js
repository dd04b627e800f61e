import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';

const drivers = ['pg', 'ioredis', 'kafkajs', 'express', 'neo4j-driver', '@electric-sql/pglite', 'prom-client'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'infra/**/lib/**', '.infra/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Handlers are pure: no drivers, no node built-ins, no runtime or adapters (house style habit 1).
    files: ['functions/**/*.ts'],
    ignores: ['functions/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: drivers.map((name) => ({ name, message: 'functions/** are pure; drivers live in shared/adapters.' })),
          patterns: [
            { group: ['node:*', '@aws-sdk/*'], message: 'functions/** are pure; I/O lives in shared/adapters.' },
            { group: ['**/adapters/**', '**/runtime/**'], message: 'functions/** see ports only.' },
            { group: ['@opentelemetry/*'], message: 'functions/** are pure; the runtime traces around them (shared/runtime/tracing).' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'Date', message: 'use deps.clock' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'use deps.ids' }],
    },
  },
);
