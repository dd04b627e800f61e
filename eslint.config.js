import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const drivers = ['pg', 'ioredis', 'kafkajs', 'express', 'neo4j-driver', '@electric-sql/pglite', 'prom-client'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'infra/**/lib/**', '.infra/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    // Resolves './x.js' to './x.ts' as tsc does: without it no-cycle and no-restricted-paths see nothing.
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Layers as allow-lists (shared/engine/ARCHITECTURE.md, README "Layout"): each zone names a folder and what it may not reach.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['**/*.test.ts', 'test/**'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: ['./shared/domain', './shared/ports', './shared/events'],
              from: [
                './shared/adapters',
                './shared/messaging',
                './shared/engine',
                './shared/bindings',
                './shared/http-api',
                './shared/runtime',
                './shared/observability',
                './shared/agent-sdk',
                './shared/cli',
                './functions',
              ],
              message: 'the core (domain, ports, events) depends on nothing outside it',
            },
            {
              target: ['./shared/adapters', './shared/messaging', './shared/observability'],
              from: ['./shared/engine', './shared/bindings', './shared/http-api', './shared/runtime', './shared/agent-sdk', './shared/cli'],
              message: 'adapters, messaging and observability sit below the engine and the runtime',
            },
            {
              target: './shared/engine',
              from: ['./shared/bindings', './shared/http-api', './shared/runtime', './shared/cli'],
              message: 'the engine knows no transport, no HTTP API and no composition root',
            },
            {
              target: ['./shared/bindings', './shared/http-api', './shared/agent-sdk', './shared/cli'],
              from: './shared/runtime',
              except: ['./runtime.ts'],
              message: 'only the Runtime shape is shared from the composition roots',
            },
            {
              target: ['./shared', './bench', './scripts', './examples', './console'],
              from: './functions',
              except: ['./index.ts'],
              message: 'import the functions through functions/index.ts, not their internals',
            },
          ],
        },
      ],
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
            {
              group: ['**/adapters/**', '**/runtime/**', '**/engine/**', '**/bindings/**', '**/http-api/**', '**/observability/**'],
              message: 'functions/** see ports only.',
            },
            { group: ['@opentelemetry/*'], message: 'functions/** are pure; the runtime traces around them (shared/observability/tracing).' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'Date', message: 'use deps.clock' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'use deps.ids' }],
    },
  },
);
